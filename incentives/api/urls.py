"""The incentives resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

import importlib
import importlib.util

from rest_framework.routers import DefaultRouter

from incentives.api.plans import IncentivePlanViewSet, PayoutViewSet

RECOGNITION_API = "incentives.api.recognition"


def register(router: DefaultRouter) -> None:
    router.register("incentive-plans", IncentivePlanViewSet, basename="incentive-plan")
    router.register("payouts", PayoutViewSet, basename="payout")
    # Recognition and pathways are built alongside; registered when their module is there.
    if importlib.util.find_spec(RECOGNITION_API) is not None:
        module = importlib.import_module(RECOGNITION_API)
        if hasattr(module, "register"):
            module.register(router)


urlpatterns: list = []
