"""Test settings: fast hashing, mail kept in memory, tasks eager unless a test asks
for the real worker (tests/test_celery_worker.py)."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
from config.settings.environment import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-not-secret")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come straight from the app folders: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The permission table and the API tests make thousands of requests as the same few users
# within a minute: rates no test reaches, unless it lowers them to test the throttle itself
# (tests/people/test_login_throttle.py). The cache is per process and outlives a test.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"user": "1000000/min", "anon": "1000000/min", "sign-in": "1000000/min"},
}
