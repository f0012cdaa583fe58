from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _register_periodic_tasks(**kwargs: object) -> None:
    from incentives.tasks import register_periodic_tasks  # the tasks import the services and models

    register_periodic_tasks(**kwargs)


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = "Incentives and recognition"

    def ready(self) -> None:
        # manage.py seed_demo runs what each app registers (people.demo.register_demo).
        from incentives import demo
        from people.demo import register_demo

        register_demo(self.label, seed_hospital=demo.seed_hospital)

        # The "Titles" panel on a person's profile: people sits below incentives and cannot
        # import it, so incentives hands the profile its panel (people/profile.py).
        from incentives.views.pathways import titles_panel
        from people.profile import register_panel

        register_panel(titles_panel)

        # Goal-setting notices (a request to cancel a goal, say): the cascade sits below incentives,
        # so it hands them to this app's notifications (the bell and its emails).
        from cascade.notifications import register_notifier
        from incentives.notifications import goal_notice

        register_notifier(goal_notice)

        # The nightly pathway search goes into django-celery-beat's schedule after each migrate;
        # an entry HR has edited in the admin is left as it is.
        post_migrate.connect(_register_periodic_tasks, sender=self, dispatch_uid="incentives.pathway_periodic_tasks")
