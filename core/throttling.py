"""The API's rate limits: DRF's throttles, reading their rates when a request comes.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` once, when the module is imported; these read
the settings each time, so a changed setting (a test's override) applies at once. Rates and
classes are set in settings REST_FRAMEWORK; the counts live in the default cache.

When the cache cannot be reached (Redis down in production) a request is let through and the
failure logged, rather than every API call failing: the rates only smooth the load, while the
guard against password guessing — the sign-in locks (people.sign_in) — is kept in the database.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self) -> dict[str, str]:
        return api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except (RedisError, OSError):
            logger.warning("API rate limit not applied: the cache cannot be reached", exc_info=True)
            return True


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Anonymous callers, per address ("anon")."""


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in callers, per user ("user")."""


class ScopedRateThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """A view's own rate, named by its ``throttle_scope`` (e.g. "sign-in" on the token endpoint)."""
