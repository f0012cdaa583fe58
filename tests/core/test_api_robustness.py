"""The API answers a malformed or hostile request with a 4xx in JSON, never a server error.

Over-deep JSON, unpaired surrogates, integer filters past 64 bits, a body over the upload
limit, malformed JSON, wrong content types, page numbers out of range, unknown parameters and
undecodable query strings. The operations and integer filters are found in the OpenAPI schema,
so a new endpoint or filter is covered without being listed here. Header values are checked as
a real WSGI server checks them. The pages take the same odd query strings without a server error.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser as DRFJSONParser

from core.api import INT64_MAX, INT64_MIN
from core.parsers import MAX_JSON_DEPTH, JSONParser, too_deep

API = "/api/v1"
DEEP = "[" * 5000 + "]" * 5000
WRITE_METHODS = ("post", "put", "patch")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict[str, Any], methods: tuple[str, ...]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            if method in methods:
                yield method, path, operation


def fill(path: str, value: str = "1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def quiet(client: Any) -> Any:
    client.raise_request_exception = False  # a server error is answered, and asserted on
    return client


# ---------------------------------------------------------------- over-deep JSON


def test_too_deep_counts_brackets_not_the_brackets_inside_strings():
    assert not too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert too_deep("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert too_deep('{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1))
    assert not too_deep(json.dumps(["[[[[" * 100, {"x": "{{{{" * 100, "y": '\\"[[[' * 50}]))
    # Many brackets side by side are wide, not deep.
    assert not too_deep(json.dumps([[{"a": [1]}] for _ in range(5000)]))


def test_the_parser_accepts_what_it_should():
    parser = JSONParser()
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    body = json.dumps({"deep": nested, "emoji": "Ward 😀", "escaped": "\\ud83d\\ude00"})
    assert parser.parse(io.BytesIO(body.encode()))["emoji"] == "Ward 😀"
    assert parser.parse(io.BytesIO(b'"\\ud83d\\ude00"')) == "😀"  # a surrogate pair is one character


@pytest.mark.parametrize(
    "body, message",
    [
        (DEEP, "nested more than 64 levels"),
        ('{"name": "\\ud800"}', "unpaired UTF-16 surrogate"),
        ('{"name": "x\\udc00y"}', "unpaired UTF-16 surrogate"),
        ('{"version": NaN}', "JSON parse error"),
        ('{"name": ', "JSON parse error"),
        ('{"parent": 1e400}', "Out of range float"),
        ('{"parent": [-1e400]}', "Out of range float"),
        (b'{"name": "\xff"}', "not valid utf-8"),
    ],
)
def test_hostile_json_is_a_parse_error(body, message):
    from rest_framework.exceptions import ParseError

    raw = body if isinstance(body, bytes) else body.encode()
    with pytest.raises(ParseError, match=message):
        JSONParser().parse(io.BytesIO(raw))


def test_every_api_view_parses_json_with_the_safe_parser():
    """A view that names DRF's own JSONParser (or a router action that does) would answer
    deep nesting with a RecursionError again."""

    def views(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from views(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and hasattr(entry.callback, "cls"):
                yield prefix + str(entry.pattern), entry.callback

    checked = 0
    for route, callback in views(get_resolver()):
        parsers = (getattr(callback, "initkwargs", None) or {}).get("parser_classes", callback.cls.parser_classes)
        for parser in parsers:
            if issubclass(parser, DRFJSONParser):
                assert issubclass(parser, JSONParser), f"{route} parses JSON with {parser.__module__}.{parser.__name__}"
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "method, template, body_ok",
    [
        ("post", "/departments/", {"name": "Radiology"}),
        ("patch", "/departments/{nursing}/", {"parent": None}),
        ("patch", "/employees/{employee}/", {"version": 1, "job_title": "Charge nurse"}),
        ("post", "/priorities/", None),
        ("post", "/goals/", None),
        ("post", "/recognitions/", None),
    ],
)
def test_deep_nesting_is_a_400_on_write_endpoints(cast, api_client_for, method, template, body_ok):
    path = API + template.format(nursing=cast.employee.department_id, employee=cast.employee.pk)
    client = quiet(api_client_for(cast.hr))
    response = client.generic(method.upper(), path, DEEP, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "nested more than 64 levels" in response.json()["detail"]
    if body_ok is not None:  # the same endpoint still takes an ordinary body
        assert (
            client.generic(method.upper(), path, json.dumps(body_ok), content_type="application/json").status_code < 300
        )


@pytest.mark.parametrize("signed_in", [False, True])
def test_deep_nesting_is_a_400_on_the_token_endpoint(cast, api_client_for, signed_in):
    client = quiet(api_client_for(cast.employee if signed_in else None))
    response = client.post(f"{API}/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json()["detail"]
    good = json.dumps({"username": "employee", "password": "throughline-test"})
    assert "token" in client.post(f"{API}/auth/token/", good, content_type="application/json").json()


def body_fields(schema: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """The fields of an operation's JSON body, as the schema names them."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return list(body.get("properties", {}))


# Every field of a body set to one hostile value: numbers that overflow a float (json reads them
# as infinity, which no id converts), an unpaired surrogate, numbers past 64 bits.
HOSTILE_VALUES = ["1e400", "-1e400", '"\\ud800"', str(2**64), "1e300", "[1e400]", "true"]


@pytest.mark.parametrize("who", ["hr", "anonymous"])
def test_no_write_operation_answers_hostile_json_with_a_server_error(cast, api_client_for, schema, who):
    client = quiet(api_client_for(cast.hr if who == "hr" else None))
    failures, tried = [], 0
    for method, path, operation in operations(schema, WRITE_METHODS):
        fields = body_fields(schema, operation) or ["name"]
        hostile = [DEEP, '{"a": ', *("{" + ", ".join(f'"{f}": {v}' for f in fields) + "}" for v in HOSTILE_VALUES)]
        for body in hostile:
            # A real record's id where the path has one, so that the body is read.
            response = client.generic(
                method.upper(), fill(path, str(cast.employee.pk)), body, content_type="application/json"
            )
            tried += 1
            if response.status_code >= 500:
                failures.append((method, path, body[:40], response.status_code))
    assert tried > 300
    assert failures == []


def test_an_unpaired_surrogate_is_refused_and_a_real_emoji_is_kept(cast, api_client_for):
    client = quiet(api_client_for(cast.hr))
    refused = client.post(f"{API}/departments/", '{"name": "Ward \\ud800"}', content_type="application/json")
    assert refused.status_code == 400
    assert "surrogate" in refused.json()["detail"]
    kept = client.post(f"{API}/departments/", '{"name": "Ward \\ud83d\\ude00"}', content_type="application/json")
    assert kept.status_code == 201
    assert kept.json()["name"] == "Ward 😀"


# ---------------------------------------------------------------- integer filters


def integer_filters(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (list path, integer query parameter) the schema documents, but the page number."""
    found = []
    for _, path, operation in operations(schema, ("get",)):
        for parameter in operation.get("parameters", []):
            integer = parameter["in"] == "query" and parameter["schema"].get("type") == "integer"
            if integer and parameter["name"] != "page":
                found.append((path, parameter["name"]))
    return found


def test_integer_filters_are_found(schema):
    found = integer_filters(schema)
    # The seven list endpoints first reported (employees, measures, goals, goal updates,
    # appraisals, payouts, recognitions) and every other integer filter.
    assert len({path for path, _ in found}) >= 7
    assert ("/api/v1/employees/", "department") in found
    assert ("/api/v1/payouts/", "plan") in found


@pytest.mark.parametrize("value", [str(INT64_MAX + 1), str(INT64_MIN - 1), "9" * 400, "abc", "1.5", "1e3", ""])
def test_every_integer_filter_refuses_what_is_not_a_64_bit_whole_number(cast, api_client_for, schema, value):
    client = quiet(api_client_for(cast.hr))
    wrong = []
    for path, name in integer_filters(schema):
        response = client.get(fill(path, str(cast.employee.pk)), {name: value})
        if value == "" and response.status_code == 200:
            continue  # an empty filter is no filter
        named = response.status_code == 400 and name in response.json()
        # A nested list whose parent is not visible to HR answers 404 before reading its filters.
        if not named and response.status_code != 404:
            wrong.append((path, name, response.status_code, response.content[:120]))
    assert wrong == []


def test_an_integer_filter_in_range_still_filters(cast, api_client_for):
    client = api_client_for(cast.hr)
    ids = {row["id"] for row in client.get(f"{API}/employees/", {"manager": cast.manager.pk}).json()["results"]}
    assert ids == {cast.employee.pk}
    assert client.get(f"{API}/employees/", {"manager": INT64_MAX}).json()["results"] == []
    assert client.get(f"{API}/employees/", {"manager": INT64_MIN}).json()["results"] == []


def test_detail_routes_with_ids_past_64_bits_are_not_found(cast, api_client_for, schema):
    client = quiet(api_client_for(cast.hr))
    answers = set()
    for _, path, _ in operations(schema, ("get",)):
        if "{" in path:
            for value in (str(INT64_MAX + 1), str(INT64_MIN - 1), "abc"):
                answers.add(client.get(fill(path, value)).status_code)
    assert answers <= {400, 404}


# ---------------------------------------------------------------- other hand-made edge cases


@pytest.mark.parametrize(
    "query, expected",
    [
        ("page=0", 200),  # keyset pages (core.pagination): no page numbers, so ignored
        ("page=%00", 400),  # a NUL anywhere in a query string: core.middleware
        ("cursor=2", 400),  # a cursor the list did not give: 400 naming it
        ("cursor=WzEsMl0", 400),  # [1, 2]: not this list's ordering
        ("cursor=WyJcdTAwMDAiLDFd", 400),  # ["\u0000", 1]: a NUL inside the cursor
        ("cursor=WyJBIiw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ", 400),  # ["A", 99…]: past 64 bits
        ("cursor=WyJBIiwxXQ", 200),  # ["A", 1]: a well-formed cursor, wherever it points
        ("cursor=%00", 400),
        ("page_size=1000000", 200),  # no client-chosen page size: ignored
        ("ordering=-nonexistent", 200),  # no ordering parameter: ignored
        ("search=%00", 400),  # "Null characters are not allowed."
        ("search=%ED%A0%80", 200),  # UTF-8 of a lone surrogate: decoded with a replacement
        ("department=%ED%A0%80", 400),
        ("department=%00", 400),
        ("a%00b=1", 400),
        ("department=1&department=2", 200),  # the last one counts
        ("format=xml", 404),  # an unknown format
    ],
)
def test_odd_query_strings_on_a_list(cast, api_client_for, query, expected):
    response = quiet(api_client_for(cast.hr)).get(f"{API}/employees/", QUERY_STRING=query)
    assert response.status_code == expected, response.content
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        ('{"name": ', "application/json", 400),
        ("[]", "application/json", 400),
        ("null", "application/json", 400),
        ('"Radiology"', "application/json", 400),
        ("name=Radiology", "text/plain", 415),
        ("<name>Radiology</name>", "application/xml", 415),
        ("name=Radiology", "application/x-www-form-urlencoded", 415),
        ("--x--", "multipart/form-data", 415),
        ('{"name": "Radiology"}', "application/json; charset=bz2_codec", 400),
        ('{"name": "Radiology"}', "application/json; charset=nonsense", 201),  # Django reads it as UTF-8
    ],
)
def test_odd_bodies_on_a_write(cast, api_client_for, body, content_type, expected):
    response = quiet(api_client_for(cast.hr)).post(f"{API}/departments/", body, content_type=content_type)
    assert response.status_code == expected, response.content
    assert response.json()


# ---------------------------------------------------------------- the body size limit


def test_a_body_over_the_limit_is_answered_in_json_by_the_api(cast, api_client_for, settings):
    big = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    for who, path in ((cast.hr, "/departments/"), (None, "/auth/token/")):
        response = quiet(api_client_for(who)).post(API + path, big, content_type="application/json")
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert "larger than the 2.5 MB" in response.json()["detail"]
    schema = api_client_for(cast.hr).get("/api/schema/", {"format": "json"}).json()
    for path in ("/departments/", "/auth/token/"):
        assert "413" in schema["paths"][API + path]["post"]["responses"], path  # documented where a body is taken


def test_a_body_over_the_limit_is_answered_by_a_page_on_pages(cast, client_for, settings):
    body = "old_password=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = quiet(client_for(cast.employee)).post(
        "/accounts/password/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# ---------------------------------------------------------------- headers under a real WSGI server


def wsgi_call(method: str, path: str, body: bytes, content_type: str, token: str) -> tuple[str, list]:
    """One request through Django's WSGI application wrapped in wsgiref's validator, which
    raises on anything a WSGI server would refuse (a header value that is not exactly str)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    # The test's transaction must outlive the request: Django closes connections at its end.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        result = validator(WSGIHandler())(environ, start_response)
        try:
            b"".join(result)
        finally:
            result.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"]


def test_an_org_import_answers_a_well_formed_location_header(cast, django_capture_on_commit_callbacks):
    token = Token.objects.create(user=cast.hr.user).key
    csv = b"employee_id,name,email,department,manager_id,job_title,hire_date\nN100,Nadia Okafor,nadia@example.org,Nursing,,Director,2019-04-01\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("org.csv", csv, content_type="text/csv")})
    with django_capture_on_commit_callbacks():
        status, headers = wsgi_call("POST", f"{API}/org-imports/", body, MULTIPART_CONTENT, token)
    assert status.startswith("202")
    location = dict(headers)["Location"]
    assert type(location) is str
    assert re.search(r"/api/v1/org-imports/\d+/$", location)


def test_a_created_resource_answers_well_formed_headers(cast):
    token = Token.objects.create(user=cast.hr.user).key
    body = json.dumps({"name": "Radiology"}).encode()
    status, headers = wsgi_call("POST", f"{API}/departments/", body, "application/json", token)
    assert status.startswith("201")
    assert all(type(value) is str for _, value in headers)


# ---------------------------------------------------------------- pages take the same query strings


def page_paths() -> Iterator[str]:
    """Every page the resolver knows that takes no argument in its path (not the admin's, the
    API's, or sign-out)."""

    def walk(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern)

    for pattern in walk(get_resolver()):
        plain = "<" not in pattern and "(" not in pattern and "logout" not in pattern
        if plain and not pattern.startswith(("admin/", "api/")):
            yield "/" + pattern.lstrip("^").rstrip("$")


FILTER_NAMES = [
    *("department", "manager", "period", "priority", "owner", "cycle", "employee", "plan", "page", "object"),
    *("actor", "goal", "measure", "audit", "run", "survey", "form", "version", "kind", "status", "level"),
    *("person", "competency", "scale", "pathway", "rule", "severity", "q", "search"),
]


@pytest.mark.parametrize("value", [str(INT64_MAX + 1), "-" + str(INT64_MAX + 1), "%ED%A0%80", "%00"])
def test_no_page_answers_odd_filter_values_with_a_server_error(cast, client_for, value):
    client = quiet(client_for(cast.hr))
    query = "&".join(f"{name}={value}" for name in FILTER_NAMES)
    failures = []
    for path in page_paths():
        response = client.get(path, QUERY_STRING=query)
        if response.status_code >= 500:
            failures.append((path, response.status_code))
    assert failures == []


def test_a_nul_in_a_query_string_is_a_400_on_pages_and_the_api(cast, client_for, api_client_for):
    # PostgreSQL cannot hold a NUL: the directory's search crashed on it there.
    page = quiet(client_for(cast.hr)).get("/people/", QUERY_STRING="q=a%00b")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    api = quiet(api_client_for(cast.hr)).get(f"{API}/employees/", QUERY_STRING="search=a%00b&department=1")
    assert api.status_code == 400
    assert api.json() == {"search": ["Null characters are not allowed."]}
    assert client_for(cast.hr).get("/people/", {"q": "Nurse"}).status_code == 200


def test_the_payouts_page_ignores_a_department_past_64_bits(cast, client_for):
    from tests.incentives.factories import plan_world

    _, _, plan = plan_world(cast)
    page = client_for(cast.hr).get(f"/incentives/plans/{plan.pk}/payouts/", {"department": str(INT64_MAX + 1)})
    assert page.status_code == 200
