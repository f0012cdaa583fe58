"""A version in use — an appraisal points at it — never changes: not through the
services, the admin, the API or the models.

The appraisals app does not exist yet, so these tests declare a stand-in model
with an ordinary foreign key to FormVersion (as an appraisal will have) and give
it a table for the length of the test. FormVersion.is_in_use() must find it
without being told about it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from competencies import services
from competencies.models import FormVersion
from tests.competencies.helpers import FROZEN, admin_form_data, change_url
from tests.competencies.helpers import admin_state as state

# Schema changes need a test without a wrapping transaction (SQLite refuses them inside one).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_use(published, appraisal_model) -> FormVersion:  # type: ignore[no-untyped-def]
    appraisal_model.objects.create(form_version=published)
    return published


def test_a_referenced_published_version_is_in_use(published, appraisal_model):
    assert not published.is_in_use()
    appraisal_model.objects.create(form_version=published)
    assert published.is_in_use()
    assert any(field.model is appraisal_model for field in FormVersion.referencing_fields())


def test_a_version_in_use_cannot_change_through_the_services_or_the_models(hr, in_use):
    before = state(in_use)
    with pytest.raises(ValidationError):
        services.draft_update(user=hr, version=in_use, expected_version=None, data={"goals_weight": 50})
    with pytest.raises(ValidationError):
        services.draft_discard(user=hr, version=in_use, expected_version=None)
    version = FormVersion.objects.get(pk=in_use.pk)
    version.competencies_weight, version.goals_weight = 50, 50
    with pytest.raises(ValidationError):
        version.save()
    with pytest.raises(ValidationError):
        FormVersion.objects.get(pk=in_use.pk).delete()
    with pytest.raises(ValidationError):
        in_use.competencies.first().delete()
    assert state(in_use) == before


def test_a_version_in_use_cannot_change_through_the_admin(cast, client_for, in_use):
    client = client_for(cast.hr)
    before = state(in_use)
    page = client.get(change_url(in_use))
    assert "In use" in page.content.decode() and "icon-yes" in page.content.decode()
    data = admin_form_data(page)
    data["competencies-0-weight"] = 10
    response = client.post(change_url(in_use), data)
    assert response.status_code == 200
    assert FROZEN in response.content.decode()
    assert state(in_use) == before


def test_a_version_in_use_cannot_change_through_the_api(cast, api_client_for, in_use):
    client = api_client_for(cast.hr)
    url = f"/api/v1/forms/{in_use.form_id}/versions/1/"
    before = client.get(url).json()
    assert before["is_in_use"] is True
    stale = client.patch(url, {"version": before["version"] - 1, "goals_weight": 50}, format="json")
    assert stale.status_code == 409
    refused = client.patch(url, {"version": before["version"], "goals_weight": 50, "competencies_weight": 50},
                           format="json")  # fmt: skip
    assert refused.status_code == 400
    assert client.get(url).json() == before


def test_a_version_in_use_can_still_be_retired_and_stays_as_it_was(hr, in_use):
    before = state(in_use)
    services.version_retire(user=hr, version=in_use, expected_version=None)
    after = state(in_use)
    assert after[0] == "retired"
    assert after[2:] == before[2:]
    assert in_use.is_in_use()
