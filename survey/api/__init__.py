"""The read-only data API at /api/v1/ (SPEC 17): tokens, the results it serves, its
OpenAPI document and its views."""
