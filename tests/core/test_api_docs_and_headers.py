"""The API schema and its docs need a sign-in unless THROUGHLINE_API_DOCS_PUBLIC says otherwise
(local development), and every response carries the Permissions-Policy header."""

from __future__ import annotations

import pytest
from django.test import override_settings

SCHEMA, DOCS = "/api/schema/", "/api/docs/"


@override_settings(THROUGHLINE_API_DOCS_PUBLIC=False)
def test_the_schema_asks_anonymous_callers_to_sign_in(db, api_client_for, client_for):
    assert api_client_for(None).get(SCHEMA).status_code == 401
    assert client_for(None).get(SCHEMA).status_code == 401


@override_settings(THROUGHLINE_API_DOCS_PUBLIC=False)
def test_the_docs_page_sends_anonymous_visitors_to_sign_in_and_back(db, client_for):
    response = client_for(None).get(DOCS)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"
    script = client_for(None).get(DOCS, {"script": ""})  # the page's own script, too
    assert script.status_code == 302


@override_settings(THROUGHLINE_API_DOCS_PUBLIC=False)
@pytest.mark.parametrize("role", ["employee", "hr"])
def test_anyone_signed_in_reads_the_schema_and_the_docs(cast, client_for, api_client_for, role):
    person = getattr(cast, role)
    assert api_client_for(person).get(SCHEMA).status_code == 200
    page = client_for(person)
    assert page.get(DOCS).status_code == 200
    assert page.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["openapi"].startswith("3.")


@override_settings(THROUGHLINE_API_DOCS_PUBLIC=True)
def test_public_docs_answer_anyone(db, client_for):
    assert client_for(None).get(SCHEMA).status_code == 200
    assert client_for(None).get(DOCS).status_code == 200


@pytest.mark.parametrize(
    "path, signed_in",
    [
        ("/", True),
        ("/accounts/login/", False),
        ("/api/v1/", True),
        ("/api/v1/employees/", False),  # a refusal (401) too
        ("/no-such-page/", True),  # a 404
        (DOCS, True),
        ("/healthz", False),
        ("/static/css/app.css", False),  # served by WhiteNoise
    ],
)
def test_every_response_carries_the_permissions_policy(cast, client_for, path, signed_in):
    response = client_for(cast.employee if signed_in else None).get(path)
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"):
        assert f"{feature}=()" in policy
