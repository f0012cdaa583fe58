"""The people resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from people.api.views import DepartmentViewSet, EmployeeViewSet, HistoryViewSet, OrgImportViewSet


def register(router: DefaultRouter) -> None:
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("employees", EmployeeViewSet, basename="employee")
    router.register("org-imports", OrgImportViewSet, basename="org-import")
    # HR's action log (read-only); one record's: history/?kind=<app_label.model>&object=<id>
    router.register("history", HistoryViewSet, basename="history")


# The project's parsers (core.parsers' JSON parser), not the ones ObtainAuthToken pins for itself.
urlpatterns = [path("auth/token/", ObtainAuthToken.as_view(parser_classes=APIView.parser_classes), name="api-token")]
