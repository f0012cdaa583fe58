"""The appraisals resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from appraisals.api.views import AppraisalViewSet, CheckInViewSet, CycleViewSet, DevelopmentPlanViewSet


def register(router: DefaultRouter) -> None:
    router.register("cycles", CycleViewSet, basename="cycle")
    router.register("appraisals", AppraisalViewSet, basename="appraisal")
    router.register("check-ins", CheckInViewSet, basename="check-in")
    router.register("development-plans", DevelopmentPlanViewSet, basename="development-plan")


urlpatterns: list = []
