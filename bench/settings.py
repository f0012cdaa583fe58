"""Production settings plus the bench's bare view (bench/urls.py): what ``python -m bench.http``
serves under gunicorn. Production itself carries no bench code."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
