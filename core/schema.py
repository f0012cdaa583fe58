"""The API schema documents the error answers of every operation, in one place.

Every view answers its errors through ``core.api.exception_handler``: a refusal, a missing
record, a stale write or a throttled caller as ``{"detail": "..."}`` (component ``Error``);
invalid input as each field's messages under its name (component ``ValidationError``). This
AutoSchema adds those answers to each operation from what the operation is, so that no view
has to list them and none can forget one:

* 400 — the operation takes a body, or query parameters beyond the page number;
* 401 and 403 — it needs a signed-in caller (403: a role-reserved action, or a session
  write without its CSRF token);
* 404 — its path names a record, or it is a paged list (a page past the end);
* 409 — its body (or query) carries the ``version`` the caller read (a stale one is refused);
* 413 — it takes a body (one over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before it is read);
* 429 — the view is throttled.

It also says of every request body that it takes the fields listed and no others: the API
refuses an unknown field with 400 ("This field cannot be changed here.") rather than ignore
a misspelt one, so ``additionalProperties`` is false (with COMPONENT_SPLIT_REQUEST, request
bodies are components of their own, without the read-only fields).

A view that documents one of these codes itself (a sharper description, or an extra 404 for a
record named in the body) keeps its text; an answer documented without a body gets the
error component, since every error body has that shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer

JSON = "application/json"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {"detail": {"type": "string", "description": "A sentence saying why, for the person."}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "description": (
        "What is wrong with the input: each field's messages under the field's name (nested for "
        "nested fields), messages about the input as a whole under `non_field_errors`, or "
        "`detail` when the body could not be read at all. A few checks answer a plain list of messages."
    ),
    "anyOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {"type": "string"}},
    ],
}

DESCRIPTIONS = {
    "400": "Invalid input, or not allowed in the record's present state; the body says why, field by field.",
    "401": "Not signed in: send a token (`Authorization: Token <key>`) or a session cookie.",
    "403": "Signed in, but this is not yours to do (or a session write came without its CSRF token).",
    "404": "No such record, or not one you may see (a paged list: no such page).",
    "409": "Someone saved this record after you read it; nothing was changed. Read it again.",
    "413": "The request body is larger than the server accepts; the body names the limit.",
    "429": "Too many requests: wait the number of seconds the body names.",
}


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer(self, serializer, direction, bypass_extensions=False) -> dict[str, Any]:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                response["content"] = {JSON: {"schema": self._error_component(code)}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        codes = []
        parameters = operation.get("parameters", [])
        queries = [p for p in parameters if p["in"] == "query" and p["name"] != "page"]
        if "requestBody" in operation or queries or self.method not in ("GET", "HEAD", "OPTIONS"):
            codes.append("400")
        security = operation.get("security", [])
        if security and {} not in security:  # {}: the operation also takes anonymous callers
            codes += ["401", "403"]
        paged = self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
        if any(p["in"] == "path" for p in parameters) or paged:
            codes.append("404")
        version_asked = any(p["in"] == "query" and p["name"] == "version" for p in parameters)
        if version_asked or ("requestBody" in operation and self._checks_version()):
            codes.append("409")
        if "requestBody" in operation:
            codes.append("413")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _checks_version(self) -> bool:
        serializer = force_instance(self.get_request_serializer())
        if not is_serializer(serializer) or not hasattr(serializer, "fields"):
            return False
        version = serializer.fields.get("version")
        return version is not None and not version.read_only

    def _error_component(self, code: str) -> dict[str, str]:
        name, schema = ("ValidationError", VALIDATION_ERROR_SCHEMA) if code == "400" else ("Error", ERROR_SCHEMA)
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref
