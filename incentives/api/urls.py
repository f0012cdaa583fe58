"""The incentives resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from incentives.api import recognition
from incentives.api.plans import IncentivePlanViewSet, PayoutViewSet, TargetBonusImportViewSet


def register(router: DefaultRouter) -> None:
    router.register("incentive-plans", IncentivePlanViewSet, basename="incentive-plan")
    router.register("payouts", PayoutViewSet, basename="payout")
    router.register("target-bonus-imports", TargetBonusImportViewSet, basename="target-bonus-import")
    recognition.register(router)


urlpatterns: list = []
