"""Settings for the Celery worker and beat that tests/audits/test_scheduled_worker.py starts.

The test settings with three changes, so that the processes behave as in production and the
test can see what they did:

- tasks are sent, never run eagerly (beat would otherwise run the audit in its own process);
- every task goes to the test's own queue (THROUGHLINE_TEST_QUEUE), which only the test's
  worker consumes, so another worker on the same Redis never takes it;
- mail is written to files in THROUGHLINE_TEST_MAIL_DIR: the in-memory outbox of another
  process cannot be read from the test, a directory can.
"""

from __future__ import annotations

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ["THROUGHLINE_TEST_QUEUE"]
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["THROUGHLINE_TEST_MAIL_DIR"]
