"""Checks the gateway's OpenAPI document and real responses against it.
usage: validate_openapi.py OPENAPI_JSON_FILE SAMPLES_JSON_FILE
SAMPLES is a list of {"method", "path" (the template, e.g. /orders/{id}), "status", "body"}.
Prints one 'OK ...' or 'INVALID ...' line per sample; exits 1 if anything is invalid."""
import json
import sys

from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def main() -> int:
    with open(sys.argv[1]) as f:
        document = json.load(f)
    with open(sys.argv[2]) as f:
        samples = json.load(f)
    validate(document)  # raises if the document is not valid OpenAPI 3.1
    print("OK document is valid OpenAPI " + document["openapi"], flush=True)
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012))
    failures = 0
    for sample in samples:
        method, path, status = sample["method"].lower(), sample["path"], str(sample["status"])
        responses = document["paths"][path][method]["responses"]
        if status not in responses:
            print(f"INVALID {method.upper()} {path} {status}: status not documented", flush=True)
            failures += 1
            continue
        pointer = f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/{status}"
        response = responses[status]
        if "$ref" in response:
            pointer = response["$ref"]
        schema = {"$ref": f"urn:openapi{pointer}/content/application~1json/schema"}
        validator = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
        errors = sorted(validator.iter_errors(sample["body"]), key=str)
        if errors:
            failures += 1
            print(f"INVALID {method.upper()} {path} {status}: {errors[0].message}", flush=True)
        else:
            print(f"OK {method.upper()} {path} {status}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
