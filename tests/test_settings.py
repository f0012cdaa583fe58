"""A malformed setting stops start-up with a message that names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start(settings_module: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    environment.update({"DJANGO_SETTINGS_MODULE": settings_module, **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "nonsense"),
        ("CELERY_BROKER_URL", "amqp-ish"),
        ("DJANGO_CONN_MAX_AGE", "ten"),
        ("CELERY_TASK_ALWAYS_EAGER", "sometimes"),
    ],
)
def test_a_malformed_setting_stops_start_up_and_names_itself(name, value):
    result = start("config.settings.local", **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.splitlines()[-1]


def test_production_refuses_to_start_without_a_secret_key():
    result = start("config.settings.production", DJANGO_ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr.splitlines()[-1]


def test_production_refuses_a_short_secret_key():
    result = start("config.settings.production", DJANGO_ALLOWED_HOSTS="example.org", DJANGO_SECRET_KEY="short")
    assert "at least 50 characters" in result.stderr


def test_good_settings_start():
    assert start("config.settings.local").returncode == 0


PRODUCTION = {
    "DJANGO_SECRET_KEY": "production-test-" + "k" * 60,
    "DJANGO_ALLOWED_HOSTS": "throughline.example.org",
}


def setting(settings_module: str, name: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    environment.update({"DJANGO_SETTINGS_MODULE": settings_module, **env})
    command = [sys.executable, "manage.py", "shell", "-c", f"from django.conf import settings; print(settings.{name})"]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_api_docs_are_public_in_development_only():
    assert setting("config.settings.local", "THROUGHLINE_API_DOCS_PUBLIC") == "True"
    assert setting("config.settings.production", "THROUGHLINE_API_DOCS_PUBLIC", **PRODUCTION) == "False"
    opened = setting(
        "config.settings.production", "THROUGHLINE_API_DOCS_PUBLIC", THROUGHLINE_API_DOCS_PUBLIC="true", **PRODUCTION
    )
    assert opened == "True"


def test_production_settings_pass_the_deploy_checks():
    # As `make check` runs them: any warning fails.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **PRODUCTION})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
