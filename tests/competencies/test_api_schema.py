"""The competencies API documents itself without warnings, given the enum names it asks for.

Its choice sets share field names with others ("status", "methodology"), so
drf-spectacular needs a name for each; the project settings give them in
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]. This test supplies them itself, so
that it checks this app's endpoints whatever the rest of the API looks like.
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import _load_enum_name_overrides
from drf_spectacular.settings import patched_settings, spectacular_settings
from drf_spectacular.validation import validate_schema
from rest_framework.routers import DefaultRouter

from competencies.api import urls as competencies_api

ENUM_NAMES = {
    "QIMethodologyEnum": "competencies.models.Methodology",
    "FormVersionStatusEnum": "competencies.models.VersionStatus",
    "ActiveRetiredStatusEnum": "competencies.models.CompetencyStatus",
}


def test_the_schema_of_the_competencies_api_is_valid_and_free_of_warnings():
    router = DefaultRouter()
    competencies_api.register(router)
    overrides = {**spectacular_settings.ENUM_NAME_OVERRIDES, **ENUM_NAMES}
    GENERATOR_STATS.reset()
    _load_enum_name_overrides.cache_clear()
    try:
        with patched_settings({"ENUM_NAME_OVERRIDES": overrides}):
            schema = SchemaGenerator(patterns=[path("api/v1/", include(router.urls))]).get_schema(public=True)
        problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    finally:
        GENERATOR_STATS.reset()
        _load_enum_name_overrides.cache_clear()
    validate_schema(schema)
    assert problems == {}
    assert "/api/v1/forms/{form_pk}/versions/{number}/publish/" in schema["paths"]
    assert {"QIMethodologyEnum", "FormVersionStatusEnum", "ActiveRetiredStatusEnum"} <= set(
        schema["components"]["schemas"]
    )
