from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _register_periodic_tasks(**kwargs: object) -> None:
    from appraisals.tasks import register_periodic_tasks  # the tasks import the services and their models

    register_periodic_tasks(**kwargs)


class AppraisalsConfig(AppConfig):
    name = "appraisals"
    verbose_name = "Review cycles and appraisals"

    def ready(self) -> None:
        # manage.py seed_demo runs what each app registers (people.demo.register_demo).
        from appraisals import demo
        from people.demo import register_demo

        register_demo(self.label, seed_hospital=demo.seed_hospital)

        # The daily phase move and reminders go into django-celery-beat's schedule after each
        # migrate (and flush); entries HR has edited in the admin are left as they are.
        post_migrate.connect(_register_periodic_tasks, sender=self, dispatch_uid="appraisals.periodic_tasks")
        # A participant of a running cycle sees its goal period by default on every cascade page;
        # cascade cannot import appraisals, so appraisals tells it (cascade.selectors).
        from appraisals.selectors import running_cycle_period
        from cascade.selectors import register_person_period

        register_person_period(running_cycle_period)
