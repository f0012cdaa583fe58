"""Which form applies to whom: the most specific rule wins, with a default for everyone else."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from competencies import selectors, services
from competencies.models import AppraisalForm, FormVersion
from people.models import Department
from tests.competencies.helpers import user_of
from tests.factories import DepartmentFactory, EmployeeFactory


@pytest.fixture
def forms(hr, scale, process_thinking) -> dict[str, FormVersion]:  # type: ignore[no-untyped-def]
    """Four published forms, by name."""
    published = {}
    for name in ("Default", "Department", "Title", "Both"):
        form = services.form_create(user=hr, name=name, goals_scale=scale)
        draft = selectors.draft_of(form)
        services.draft_add_competency(
            user=hr, version=draft, expected_version=None, competency=process_thinking, weight=100
        )
        published[name] = services.form_publish(user=hr, version=draft, expected_version=None)
    return published


def form(forms: dict[str, FormVersion], name: str) -> AppraisalForm:
    return forms[name].form


def test_the_most_specific_rule_wins(cast, hr, forms):
    nursing = cast.employee.department
    services.rule_create(user=hr, form=form(forms, "Default"), is_default=True)
    assert selectors.form_for(cast.employee) == forms["Default"]
    services.rule_create(user=hr, form=form(forms, "Department"), department=nursing)
    assert selectors.form_for(cast.employee) == forms["Department"]
    services.rule_create(user=hr, form=form(forms, "Title"), job_title="staff NURSE ")
    assert selectors.form_for(cast.employee) == forms["Title"]
    services.rule_create(user=hr, form=form(forms, "Both"), job_title="Staff nurse", department=nursing)
    assert selectors.form_for(cast.employee) == forms["Both"]
    # Someone elsewhere with another title falls back to the default.
    cast.stranger.job_title = "Pharmacist"
    assert selectors.form_for(cast.stranger) == forms["Default"]


def test_a_job_title_rule_beats_a_department_rule_whatever_the_priorities(cast, hr, forms):
    services.rule_create(user=hr, form=form(forms, "Department"), department=cast.employee.department, priority=1)
    services.rule_create(user=hr, form=form(forms, "Title"), job_title="Staff nurse", priority=999)
    assert selectors.form_for(cast.employee) == forms["Title"]


def test_a_department_rule_covers_the_departments_under_it_the_nearest_winning(cast, hr, forms):
    nursing = cast.employee.department
    ward = DepartmentFactory(name="Ward 7", parent=nursing)
    hospital = DepartmentFactory(name="Hospital")
    Department.objects.filter(pk=nursing.pk).update(parent=hospital)
    nurse = EmployeeFactory(department=ward, job_title="Healthcare assistant")
    services.rule_create(user=hr, form=form(forms, "Default"), department=hospital)
    assert selectors.form_for(nurse) == forms["Default"]
    services.rule_create(user=hr, form=form(forms, "Department"), department=nursing)
    assert selectors.form_for(nurse) == forms["Department"]


def test_among_rules_of_one_kind_the_lowest_priority_number_wins(cast, hr, forms):
    nursing = cast.employee.department
    hospital = DepartmentFactory(name="Hospital")
    Department.objects.filter(pk=nursing.pk).update(parent=hospital)
    cast.employee.refresh_from_db()
    services.rule_create(user=hr, form=form(forms, "Department"), department=nursing)
    hospital_rule = services.rule_create(user=hr, form=form(forms, "Default"), department=hospital, priority=100)
    assert selectors.form_for(cast.employee) == forms["Department"]  # equal priority: the nearest department
    services.rule_update(user=hr, rule=hospital_rule, expected_version=1, data={"priority": 10})
    assert selectors.form_for(cast.employee) == forms["Default"]


def test_a_rule_whose_form_is_not_published_is_skipped(cast, hr, forms, scale):
    unpublished = services.form_create(user=hr, name="Unpublished", goals_scale=scale)
    services.rule_create(user=hr, form=form(forms, "Default"), is_default=True)
    services.rule_create(user=hr, form=unpublished, job_title="Staff nurse")
    assert selectors.form_for(cast.employee) == forms["Default"]
    services.version_retire(user=hr, version=forms["Default"], expected_version=None)
    assert selectors.form_for(cast.employee) is None


def test_without_rules_no_form_applies(cast, forms):
    assert selectors.form_for(cast.employee) is None


def test_forms_for_many_people_costs_the_same_queries(cast, hr, forms):
    services.rule_create(user=hr, form=form(forms, "Default"), is_default=True)
    services.rule_create(user=hr, form=form(forms, "Department"), department=cast.employee.department)
    few = [cast.employee, cast.stranger]
    many = few + EmployeeFactory.create_batch(20, department=cast.employee.department)
    with CaptureQueriesContext(connection) as small:
        selectors.forms_for(few)
    with CaptureQueriesContext(connection) as large:
        result = selectors.forms_for(many)
    assert len(small) == len(large) == 3
    assert {result[e.pk] for e in many[2:]} == {forms["Department"]}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, r"A rule names a department, a job title or both; only the default names neither\."),
        ({"is_default": True, "job_title": "Nurse"}, "only the default names neither"),
    ],
)
def test_it_refuses_a_rule_without_a_target_or_a_default_with_one(hr, forms, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        services.rule_create(user=hr, form=form(forms, "Default"), **kwargs)


def test_it_refuses_a_second_default_and_a_duplicate_rule(cast, hr, forms):
    services.rule_create(user=hr, form=form(forms, "Default"), is_default=True)
    with pytest.raises(ValidationError, match=r"There is already a default rule\."):
        services.rule_create(user=hr, form=form(forms, "Title"), is_default=True)
    services.rule_create(user=hr, form=form(forms, "Title"), job_title="Staff nurse")
    with pytest.raises(ValidationError, match=r"A rule for this job title already exists\."):
        services.rule_create(user=hr, form=form(forms, "Both"), job_title="STAFF nurse")
    services.rule_create(user=hr, form=form(forms, "Department"), department=cast.employee.department)
    with pytest.raises(ValidationError, match=r"A rule for this department and job title already exists\."):
        services.rule_create(user=hr, form=form(forms, "Both"), department=cast.employee.department)


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_only_hr_writes_rules(cast, forms, role):
    with pytest.raises(PermissionDenied):
        services.rule_create(user=user_of(getattr(cast, role)), form=form(forms, "Default"), is_default=True)
