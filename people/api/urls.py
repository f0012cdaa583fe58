"""The people resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from people.api.token import ObtainTokenView
from people.api.views import DepartmentViewSet, EmployeeViewSet, HistoryViewSet, OrgImportViewSet


def register(router: DefaultRouter) -> None:
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("employees", EmployeeViewSet, basename="employee")
    router.register("org-imports", OrgImportViewSet, basename="org-import")
    # HR's action log (read-only); one record's: history/?kind=<app_label.model>&object=<id>
    router.register("history", HistoryViewSet, basename="history")


# Under the sign-in locks and the "sign-in" rate (people.api.token).
urlpatterns = [path("auth/token/", ObtainTokenView.as_view(), name="api-token")]
