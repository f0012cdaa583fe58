from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "People"

    def ready(self) -> None:
        # manage.py seed_demo runs what each app registers (people.demo.register_demo).
        from people import demo

        demo.register_demo(self.label, seed_hospital=demo.seed_hospital, seed_synthetic=demo.seed_synthetic)
