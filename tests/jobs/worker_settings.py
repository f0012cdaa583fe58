"""Settings for the Celery workers that the killed-worker tests (tests/jobs) start and kill.

The test settings, with what the environment of each worker asks for:

- tasks are sent, never run eagerly, and go to the test's own queue (THROUGHLINE_TEST_QUEUE),
  which only the test's workers consume;
- THROUGHLINE_JOB_TEST_BATCH / THROUGHLINE_JOB_TEST_PAUSE: small batches and a pause after each
  (core.jobs.batches), so that the test can kill a worker with a job half-way;
- THROUGHLINE_TEST_VISIBILITY: a broker visibility timeout of a few seconds, and a sweep every
  second, so that a message left unacknowledged by a killed worker is handed to the next one
  within the test's patience rather than after the production timeout.
"""

from __future__ import annotations

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ["THROUGHLINE_TEST_QUEUE"]
THROUGHLINE_JOB_TEST_BATCH = int(os.environ.get("THROUGHLINE_JOB_TEST_BATCH", "0"))
THROUGHLINE_JOB_TEST_PAUSE = float(os.environ.get("THROUGHLINE_JOB_TEST_PAUSE", "0"))
if os.environ.get("THROUGHLINE_TEST_VISIBILITY"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ["THROUGHLINE_TEST_VISIBILITY"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
