from __future__ import annotations

from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "home"
    verbose_name = "Home page"
    default_auto_field = "django.db.models.BigAutoField"
