"""The cascade resources, registered on the project's one API router (config/api_router.py)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from cascade.api.change_points import ChangePointViewSet
from cascade.api.views import GoalUpdateViewSet, GoalViewSet, MatrixViewSet, MeasureViewSet, PriorityViewSet


def register(router: DefaultRouter) -> None:
    router.register("priorities", PriorityViewSet, basename="priority")
    router.register("measures", MeasureViewSet, basename="measure")
    router.register("change-points", ChangePointViewSet, basename="change-point")
    router.register("goals", GoalViewSet, basename="goal")
    router.register("goal-updates", GoalUpdateViewSet, basename="goal-update")
    router.register("matrix", MatrixViewSet, basename="matrix")


urlpatterns: list = []
