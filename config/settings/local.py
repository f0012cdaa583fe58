"""Zero-setup development: SQLite, Celery tasks run in-process, email to the console."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
from config.settings.environment import env, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
THROUGHLINE_API_DOCS_PUBLIC = env_bool("THROUGHLINE_API_DOCS_PUBLIC", True)  # production: sign-in first
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
