"""The competencies resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from competencies.api.views import AppraisalFormViewSet, CompetencyViewSet, FormVersionViewSet, RatingScaleViewSet


def register(router: DefaultRouter) -> None:
    router.register("competencies", CompetencyViewSet, basename="competency")
    router.register("rating-scales", RatingScaleViewSet, basename="rating-scale")
    router.register("forms", AppraisalFormViewSet, basename="appraisal-form")
    router.register(r"forms/(?P<form_pk>[0-9]+)/versions", FormVersionViewSet, basename="form-version")


urlpatterns: list = []
