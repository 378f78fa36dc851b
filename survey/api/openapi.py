"""The OpenAPI 3.1 document of /api/v1/ (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

NUMBER_OR_NULL = {"type": ["number", "null"]}
STATUS = {"type": "string", "enum": ["published", "suppressed", "no data"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


def _page_of(name: str) -> dict[str, Any]:
    return _object({"items": {"type": "array", "items": _ref(name)},
                    "page": {"type": "integer", "minimum": 1},
                    "per_page": {"type": "integer", "minimum": 1},
                    "total": {"type": "integer", "minimum": 0},
                    "next": {"type": ["string", "null"]}})


SCOPE_PROPERTIES: dict[str, Any] = {
    "label": {"type": "string"},
    "invited": {"type": "integer"}, "responded": {"type": "integer"},
    "response_rate": NUMBER_OR_NULL,
    "elements": {"type": "object", "additionalProperties": _ref("Figure"),
                 "description": "By element key."},
    "overall": _ref("Figure"),
    "stage": _ref("Stage"),
    "partnerships": {"type": "integer"},
}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": {"type": "string"}}),
    "Figure": {
        **_object({"value": NUMBER_OR_NULL, "n": {"type": "integer", "minimum": 0},
                   "status": STATUS}),
        "description": "A figure; `value` is null when `status` is suppressed or no data.",
    },
    "Stage": _object({"level": {"type": ["integer", "null"]},
                      "label": {"type": ["string", "null"]}, "status": STATUS}),
    "Release": _object({"number": {"type": "integer"},
                        "published_at": {"type": "string", "format": "date-time"},
                        "note": {"type": ["string", "null"]},
                        "figures_hash": {"type": "string"}}),
    "Cycle": _object({"name": {"type": "string"}, "status": {"type": "string"},
                      "opens_on": {"type": "string", "format": "date"},
                      "closes_on": {"type": "string", "format": "date"},
                      "provisional": {"type": "boolean"},
                      "content_hash": {"type": "string"},
                      "releases": {"type": "array", "items": _ref("Release")}}),
    "CycleDetail": {"allOf": [_ref("Cycle"), _object({
        "elements": {"type": "array", "items": _object({
            "key": {"type": "string"}, "title": {"type": "string"},
            "order": {"type": "integer"}})},
        "items": {"type": "array", "items": _object({
            "number": {"type": "string"}, "code": {"type": "string"},
            "element": {"type": "string"}, "text": {"type": "string"}})},
        "scale": _object({
            "levels": {"type": "array", "items": _object({
                "level": {"type": "integer"}, "label": {"type": "string"},
                "min_score": {"type": "number"}})},
            "min_respondents": {"type": "integer"},
            "change_threshold": {"type": "number"}}),
        "provisional": {"type": "boolean"}})]},
    "State": _object({k: v for k, v in SCOPE_PROPERTIES.items()}),
    "Board": _object({"code": {"type": "string"}, **SCOPE_PROPERTIES}),
    "Change": _object({
        "element": {"type": "string", "description": "An element key, or overall."},
        "previous_cycle": {"type": ["string", "null"]},
        "previous": _ref("Figure"), "current": _ref("Figure"),
        "delta": NUMBER_OR_NULL,
        "status": {"type": "string", "enum": ["improved", "declined", "sustained",
                                              "no change", "suppressed", "no data"]},
        "items_changed": {"type": "boolean"},
        "within_margin": {"type": ["boolean", "null"], "description":
                          "True when the change is within both scores' 90% margins; null "
                          "where either margin is unknown."}}),
    "Agreement": {**_object({"rwg": {"type": "number"},
                             "reading": {"type": "string", "enum": ["agree", "mixed", "split"]},
                             "n": {"type": "integer"}, "items": {"type": "integer"}}),
                  "description": "rwg(J) of the element's items and its reading (SPEC 15)."},
    "Margin": {**_object({"se": {"type": "number"}, "low": {"type": "number"},
                          "high": {"type": "number"}, "n": {"type": "integer"}}),
               "description": "Standard error and 90% interval of the score (SPEC 15)."},
    "ElementFigure": {
        **_object({"value": NUMBER_OR_NULL, "n": {"type": "integer", "minimum": 0},
                   "status": STATUS,
                   "agreement": {"oneOf": [_ref("Agreement"), {"type": "null"}]},
                   "margin": {"oneOf": [_ref("Margin"), {"type": "null"}]}}),
        "description": "A partnership's element score with its agreement and margin, "
                       "each null where the release has none.",
    },
    "Partnership": _object({
        "id": {"type": "integer"}, "board_code": {"type": "string"},
        "board": {"type": "string"}, "sector": {"type": "string"},
        **{k: v for k, v in SCOPE_PROPERTIES.items() if k != "partnerships"},
        "elements": {"type": "object", "additionalProperties": _ref("ElementFigure"),
                     "description": "By element key."},
        "change": {"type": "array", "items": _ref("Change")}}),
    "Item": _object({
        "number": {"type": "string", "description": "As partners saw it, e.g. 6.2."},
        "code": {"type": "string"}, "element": {"type": "string"}, "text": {"type": "string"},
        "mean": _ref("Figure"),
        "counts": {"type": ["object", "null"],
                   "additionalProperties": {"type": "integer"},
                   "description": "Answers per level; null where suppressed."},
        "dont_know": {"type": ["integer", "null"]},
        "not_applicable": {"type": ["integer", "null"]},
        "status": STATUS}),
    "PlanEntry": _object({
        "element": {"type": "string"}, "element_title": {"type": "string"},
        "priority": {"type": "boolean"}, "goal": {"type": "string"},
        "actions": {"type": "string"}, "owner": {"type": "string"},
        "due_on": {"type": ["string", "null"]}, "status": {"type": "string"},
        "overdue": {"type": "boolean"}, "updated_at": {"type": ["string", "null"]}}),
    "Benchmark": {**_object({
        "scope": {"type": "string", "description": "State, or a sector name."},
        "element": {"type": "string", "description": "An element key, or overall."},
        "partnerships": {"type": "integer"},
        "lower": {"type": "number"}, "median": {"type": "number"},
        "upper": {"type": "number"}}),
        "description": "Quartiles of published partnership scores (five or more)."},
    "Outcome": _object({
        "measure": {"type": "string"}, "label": {"type": "string"},
        "unit": {"type": "string", "enum": ["count", "money", "percent"]},
        "higher_is_better": {"type": "boolean"},
        "value": NUMBER_OR_NULL, "status": STATUS,
        "source": {"type": "string"}, "previous": NUMBER_OR_NULL,
        "previous_cycle": {"type": ["string", "null"]}, "change": NUMBER_OR_NULL}),
}
SCHEMAS["Outcomes"] = _object({"items": {"type": "array", "items": _ref("Outcome")}})
for _name in ("Cycle", "Board", "Partnership", "Item", "Benchmark"):
    SCHEMAS[f"{_name}Page"] = _page_of(_name)
SCHEMAS["Plan"] = _object({"items": {"type": "array", "items": _ref("PlanEntry")}})

PATH_PARAMETERS = {
    "cycle": {"name": "cycle", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The cycle's name, such as 2026."},
    "code": {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "A board code."},
    "partnership_id": {"name": "partnership_id", "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}},
}
PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
]


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}


def _operation(summary: str, schema: str, path_params: list[str], paged: bool = False,
               extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    parameters = [PATH_PARAMETERS[p] for p in path_params]
    parameters += (PAGE_PARAMETERS if paged else []) + (extra or [])
    responses: dict[str, Any] = {
        "200": {"description": "OK", "headers": {"ETag": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": _ref(schema)}}},
        "304": {"description": "Not modified (If-None-Match matched the ETag)."},
        "401": _error("No live token."),
        "404": _error("Not found, or not this token's to see."),
        "429": _error("Too many calls with this token; see Retry-After."),
    }
    if paged:
        responses["400"] = _error("Bad paging parameters.")
    return {"summary": summary, "parameters": parameters, "responses": responses,
            "security": [{"bearer": []}]}


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    cycle = ["cycle"]
    one = ["cycle", "partnership_id"]
    board_filter = [{"name": "board", "in": "query", "required": False,
                     "schema": {"type": "string"}, "description": "Only this board."}]
    scope_filter = [{"name": "scope", "in": "query", "required": False,
                     "schema": {"type": "string"}, "description": "State, or a sector."}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sector Partnership Self-Assessment data API", "version": "1",
                 "description": "Read-only published figures. A token sees exactly what its "
                 "user sees. A suppressed figure is null beside \"status\": \"suppressed\"."},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/cycles": {"get": _operation("Cycles and their releases", "CyclePage", [],
                                          paged=True)},
            "/cycles/{cycle}": {"get": _operation("One cycle", "CycleDetail", cycle)},
            "/cycles/{cycle}/state": {"get": _operation("The state's scores", "State",
                                                        cycle)},
            "/cycles/{cycle}/boards": {"get": _operation("Boards", "BoardPage", cycle,
                                                         paged=True)},
            "/cycles/{cycle}/boards/{code}": {"get": _operation(
                "One board", "Board", ["cycle", "code"])},
            "/cycles/{cycle}/partnerships": {"get": _operation(
                "Partnerships with scores, stage and change", "PartnershipPage", cycle,
                paged=True, extra=board_filter)},
            "/cycles/{cycle}/partnerships/{partnership_id}": {"get": _operation(
                "One partnership", "Partnership", one)},
            "/cycles/{cycle}/partnerships/{partnership_id}/items": {"get": _operation(
                "One partnership's item results", "ItemPage", one, paged=True)},
            "/cycles/{cycle}/partnerships/{partnership_id}/plan": {"get": _operation(
                "One partnership's action plan", "Plan", one)},
            "/cycles/{cycle}/partnerships/{partnership_id}/outcomes": {"get": _operation(
                "One partnership's outcome figures", "Outcomes", one)},
            "/cycles/{cycle}/benchmarks": {"get": _operation(
                "Quartiles statewide and per sector", "BenchmarkPage", cycle, paged=True,
                extra=scope_filter)},
        },
    }
