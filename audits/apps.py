from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _register_periodic_tasks(**kwargs: object) -> None:
    # The tasks import the services and their models, which are not ready when apps load.
    from audits import schedule, tasks

    schedule.register_periodic_tasks(**kwargs)
    tasks.register_periodic_tasks(**kwargs)


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Alignment audits"

    def ready(self) -> None:
        # manage.py seed_demo runs what each app registers (people.demo.register_demo).
        from audits import demo
        from people.demo import register_demo

        register_demo(self.label, seed_hospital=demo.seed_hospital)

        # The audit schedule and the daily survey job go into django-celery-beat's schedule after
        # each migrate; entries HR has edited in the browser are left as they are.
        post_migrate.connect(_register_periodic_tasks, sender=self, dispatch_uid="audits.periodic_tasks")
