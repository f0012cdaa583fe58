"""HR's action log, mounted at /history/ (config/urls.py)."""

from django.urls import path

from people.views import history

app_name = "history"
urlpatterns = [
    path("", history.history_list, name="list"),
    path("export.csv", history.history_csv, name="csv"),
]
