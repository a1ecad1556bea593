import Hummingbird

/// `GET /openapi.json`: the gateway's public contract as an OpenAPI 3.1 document, exactly the
/// routes `GatewayRouter` registers. Tests check real responses against it
/// (Tests/SystemTests/Python/validate_openapi.py), so it cannot drift from what is served.
enum OpenAPIDocument {
    static func register(on router: Router<some RequestContext>) {
        router.get("/openapi.json") { _, _ in JSONBody.rawResponse(json.utf8) }
    }

    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "Switchyard gateway",
        "version": "1.0.0",
        "description": "The public REST edge of Switchyard. Every non-2xx response has a JSON body {\"error\": {\"code\", \"message\"}}."
      },
      "servers": [{ "url": "http://127.0.0.1:8080" }],
      "paths": {
        "/orders": {
          "get": {
            "operationId": "lookUpOrder",
            "summary": "The article's order lookup: id and status.",
            "parameters": [{ "name": "id", "in": "query", "required": true, "schema": { "type": "string", "minLength": 1 } }],
            "responses": {
              "200": { "description": "The order.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/OrderSummary" } } } },
              "400": { "$ref": "#/components/responses/Error" },
              "404": { "$ref": "#/components/responses/Error" },
              "500": { "$ref": "#/components/responses/Error" },
              "503": { "$ref": "#/components/responses/Error" },
              "504": { "$ref": "#/components/responses/Error" }
            }
          },
          "post": {
            "operationId": "placeOrder",
            "summary": "Place an order. Repeating a request with the same Idempotency-Key returns the same order.",
            "parameters": [
              { "name": "Idempotency-Key", "in": "header", "required": true, "schema": { "type": "string", "minLength": 1, "maxLength": 128 } }
            ],
            "requestBody": {
              "required": true,
              "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PlaceOrder" } } }
            },
            "responses": {
              "201": {
                "description": "The order, placed now or by an earlier request with the same key.",
                "headers": {
                  "Location": { "description": "The order's URL.", "schema": { "type": "string" } },
                  "Idempotent-Replayed": { "description": "true when an earlier request with this key placed the order.", "schema": { "type": "string", "enum": ["true"] } }
                },
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Order" } } }
              },
              "400": { "$ref": "#/components/responses/Error" },
              "409": { "$ref": "#/components/responses/Error" },
              "413": { "$ref": "#/components/responses/Error" },
              "415": { "$ref": "#/components/responses/Error" },
              "422": { "$ref": "#/components/responses/Error" },
              "500": { "$ref": "#/components/responses/Error" },
              "503": { "$ref": "#/components/responses/Error" },
              "504": { "$ref": "#/components/responses/Error" }
            }
          }
        },
        "/orders/{id}": {
          "get": {
            "operationId": "getOrder",
            "summary": "An order with its lines, total and creation time.",
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
              "200": { "description": "The order.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Order" } } } },
              "400": { "$ref": "#/components/responses/Error" },
              "404": { "$ref": "#/components/responses/Error" },
              "500": { "$ref": "#/components/responses/Error" },
              "503": { "$ref": "#/components/responses/Error" },
              "504": { "$ref": "#/components/responses/Error" }
            }
          }
        },
        "/inventory": {
          "get": {
            "operationId": "listStock",
            "summary": "Every SKU with its available quantity, ordered by SKU, a page at a time.",
            "parameters": [
              { "name": "pageSize", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } },
              { "name": "pageToken", "in": "query", "required": false, "schema": { "type": "string" } }
            ],
            "responses": {
              "200": { "description": "A page of stock.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/StockPage" } } } },
              "400": { "$ref": "#/components/responses/Error" },
              "500": { "$ref": "#/components/responses/Error" },
              "503": { "$ref": "#/components/responses/Error" },
              "504": { "$ref": "#/components/responses/Error" }
            }
          }
        },
        "/inventory/{sku}": {
          "get": {
            "operationId": "getStock",
            "summary": "One SKU's available quantity.",
            "parameters": [{ "name": "sku", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
              "200": { "description": "The stock.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/StockItem" } } } },
              "400": { "$ref": "#/components/responses/Error" },
              "404": { "$ref": "#/components/responses/Error" },
              "500": { "$ref": "#/components/responses/Error" },
              "503": { "$ref": "#/components/responses/Error" },
              "504": { "$ref": "#/components/responses/Error" }
            }
          }
        },
        "/health/live": {
          "get": {
            "operationId": "live",
            "summary": "The gateway process answers.",
            "responses": {
              "200": { "description": "Alive.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Live" } } } }
            }
          }
        },
        "/health/ready": {
          "get": {
            "operationId": "ready",
            "summary": "Ready when every gRPC service the gateway calls reports SERVING.",
            "responses": {
              "200": { "description": "Ready.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Ready" } } } },
              "503": { "$ref": "#/components/responses/Error" }
            }
          }
        },
        "/openapi.json": {
          "get": {
            "operationId": "openAPI",
            "summary": "This document.",
            "responses": {
              "200": { "description": "The OpenAPI 3.1 document.", "content": { "application/json": { "schema": { "type": "object" } } } }
            }
          }
        }
      },
      "components": {
        "schemas": {
          "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": false,
            "properties": {
              "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": false,
                "properties": {
                  "code": { "type": "string", "description": "Stable and machine-readable, e.g. NOT_FOUND, IDEMPOTENCY_KEY_REUSED." },
                  "message": { "type": "string" }
                }
              }
            }
          },
          "OrderSummary": {
            "type": "object",
            "required": ["id", "status"],
            "additionalProperties": false,
            "properties": {
              "id": { "type": "string" },
              "status": { "type": "string", "enum": ["placed", "shipped"] }
            }
          },
          "OrderLine": {
            "type": "object",
            "required": ["sku", "quantity", "unitPriceCents"],
            "additionalProperties": false,
            "properties": {
              "sku": { "type": "string", "minLength": 1, "maxLength": 128 },
              "quantity": { "type": "integer", "minimum": 1, "maximum": 10000 },
              "unitPriceCents": { "type": "integer", "minimum": 0, "maximum": 1000000000 }
            }
          },
          "Order": {
            "type": "object",
            "required": ["id", "status", "customerId", "lines", "totalCents", "createdAt"],
            "additionalProperties": false,
            "properties": {
              "id": { "type": "string" },
              "status": { "type": "string", "enum": ["placed", "shipped"] },
              "customerId": { "type": "string" },
              "lines": { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/OrderLine" } },
              "totalCents": { "type": "integer", "minimum": 0 },
              "createdAt": { "type": "string", "format": "date-time" },
              "shippedAt": { "type": "string", "format": "date-time", "description": "When the order was marked shipped; absent while it is placed." }
            }
          },
          "PlaceOrder": {
            "type": "object",
            "required": ["customerId", "lines"],
            "properties": {
              "customerId": { "type": "string", "minLength": 1, "maxLength": 128 },
              "lines": { "type": "array", "minItems": 1, "maxItems": 100, "items": { "$ref": "#/components/schemas/OrderLine" } }
            }
          },
          "StockItem": {
            "type": "object",
            "required": ["sku", "quantity"],
            "additionalProperties": false,
            "properties": {
              "sku": { "type": "string" },
              "quantity": { "type": "integer", "minimum": 0 }
            }
          },
          "StockPage": {
            "type": "object",
            "required": ["items"],
            "additionalProperties": false,
            "properties": {
              "items": { "type": "array", "items": { "$ref": "#/components/schemas/StockItem" } },
              "nextPageToken": { "type": "string", "description": "Pass as pageToken for the next page; absent on the last page." }
            }
          },
          "Live": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": false,
            "properties": { "status": { "const": "live" } }
          },
          "Ready": {
            "type": "object",
            "required": ["status", "checks"],
            "additionalProperties": false,
            "properties": {
              "status": { "const": "ready" },
              "checks": { "type": "object", "additionalProperties": { "type": "string" } }
            }
          }
        },
        "responses": {
          "Error": {
            "description": "An error: the status says what kind, the body says what happened.",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
          }
        }
      }
    }
    """#
}
