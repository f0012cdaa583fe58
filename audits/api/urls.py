"""The audit resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from audits.api import runs, surveys


def register(router: DefaultRouter) -> None:
    runs.register(router)  # audits, findings
    surveys.register(router)  # surveys


urlpatterns: list = []
