from django.apps import AppConfig


class CascadeConfig(AppConfig):
    name = "cascade"
    verbose_name = "Goal cascade"
