// Non-product helpers for tests; see the files beside this one.
