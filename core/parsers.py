"""The API's JSON parser: a body the server cannot hold is a 400, never a 500.

DRF's own JSONParser lets three kinds of well-formed-looking JSON through to a crash:

* thousands of nested brackets, on which the json module raises RecursionError (a 500 on
  every write operation and on the anonymous token endpoint, before any permission check);
* a lone UTF-16 surrogate (``"\\ud800"``), which json accepts but no database can store
  (UnicodeEncodeError on save);
* a number too large for a float (``1e400``), which json reads as infinity, and an id field
  then fails to convert (OverflowError). DRF refuses the literals NaN and Infinity, not these.

This module imports no DRF view: it is named in REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"], which
DRF reads while it defines APIView itself.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

# No request the API accepts nests more than a few levels (a form's questions inside its
# sections is the deepest); 64 leaves room and stays far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 64

# Strings (whose brackets do not count), runs of anything else but a bracket, and the quote of
# a string left open (malformed: json.loads says so): removed, they leave only the structure.
_NOT_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^\[\]{}"]+|"')
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \uD800–\uDFFF escape: the only way JSON text can carry a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def too_deep(text: str) -> bool:
    """Whether JSON text nests deeper than MAX_JSON_DEPTH, found without parsing it: no recursion,
    and loops that run in C (about 0.1 s for a 2.5 MB body of nested objects, the largest allowed)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False  # the common case: too few brackets to nest that deep
    structure = _NOT_STRUCTURE.sub("", text)
    return max(accumulate(map(_STEP.__getitem__, structure)), default=0) > MAX_JSON_DEPTH


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing over-deep nesting and unpaired surrogates with a 400."""

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}: {exc.reason}.") from None
        if too_deep(text):
            raise ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep.")
        strict = {"parse_constant": strict_constant, "parse_float": _finite_float} if self.strict else {}
        try:
            data = json.loads(text, **strict)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:  # the depth check makes this unreachable; kept as the last guard
            raise ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep.") from None
        if _SURROGATE_ESCAPE.search(text):
            try:
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise ParseError(
                    "JSON parse error - a string holds an unpaired UTF-16 surrogate (\\ud800–\\udfff), "
                    "which is not a character."
                ) from None
        return data


def _finite_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {literal[:40]}")
    return value
