"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from people.models import Department, Employee
from people.services import rebuild_paths


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Department {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("throughline-test")


class EmployeeFactory(factory.django.DjangoModelFactory):
    """An employee whose stored manager path is right, as the services would leave it."""

    class Meta:
        model = Employee
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    employee_id = factory.Sequence(lambda n: f"E{n:05d}")
    full_name = factory.Faker("name")
    department = factory.SubFactory(DepartmentFactory)
    manager = None
    job_title = "Staff nurse"
    hire_date = datetime.date(2020, 1, 6)

    @factory.post_generation
    def fix_path(obj: Employee, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            prefix = obj.manager.path if obj.manager_id else "/"
            obj.path = f"{prefix}{obj.pk}/"
            Employee.objects.filter(pk=obj.pk).update(path=obj.path)


__all__ = ["DepartmentFactory", "EmployeeFactory", "UserFactory", "rebuild_paths"]
