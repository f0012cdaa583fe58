"""The application's URLs plus ``bench/bare/``, the bare DRF view the HTTP bench compares against."""

from django.urls import include, path

from bench.bare import BareDepartmentList

urlpatterns = [
    path("bench/bare/", BareDepartmentList.as_view(), name="bench-bare"),
    path("", include("config.urls")),
]
