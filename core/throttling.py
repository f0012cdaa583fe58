"""The API's rate limits: DRF's throttles, reading their rates when a request comes.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` once, when the module is imported; these read
the settings each time, so a changed setting (a test's override) applies at once. Rates and
classes are set in settings REST_FRAMEWORK; the counts live in the default cache.
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self) -> dict[str, str]:
        return api_settings.DEFAULT_THROTTLE_RATES


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Anonymous callers, per address ("anon")."""


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in callers, per user ("user")."""


class ScopedRateThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """A view's own rate, named by its ``throttle_scope`` (e.g. "sign-in" on the token endpoint)."""
