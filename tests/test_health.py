"""/healthz reports the database and the broker, 200 when both answer and 503 when not."""

from __future__ import annotations

import pytest

from config.celery_app import app as celery_app


@pytest.fixture
def real_broker(settings):
    """Health checks the broker only when tasks are not run in-process."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # The write URL, because Celery lets a CELERY_BROKER_URL environment variable win over broker_url.
    original = celery_app.conf.broker_write_url
    yield celery_app
    celery_app.conf.broker_write_url = original


@pytest.mark.django_db
def test_it_is_healthy_when_tasks_run_in_process(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_it_answers_503_naming_an_unreachable_broker(client, real_broker):
    real_broker.conf.broker_write_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error")
