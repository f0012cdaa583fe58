from django.apps import AppConfig


class CascadeConfig(AppConfig):
    name = "cascade"
    verbose_name = "Goal cascade"

    def ready(self) -> None:
        # manage.py seed_demo runs what each app registers (people.demo.register_demo).
        from cascade import demo
        from people.demo import register_demo

        register_demo(self.label, seed_hospital=demo.seed_hospital, seed_synthetic=demo.seed_synthetic)
