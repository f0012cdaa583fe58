"""The API token endpoint, under the sign-in locks and its own rate limit.

DRF's ObtainAuthToken passes the request to ``authenticate()`` (through the serializer's
context), so axes counts each wrong password and refuses a locked account or address. But axes
marks a locked request on DRF's Request wrapper, which its middleware never sees, and DRF's
serializer would answer the refusal as "Unable to log in with provided credentials." (400):
this view answers it as the pages do, 429 with the same message, as JSON.
"""

from __future__ import annotations

from typing import Any

from axes.utils import reset
from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.throttling import ScopedRateThrottle
from people import sign_in


class SignInLocked(APIException):
    status_code = sign_in.LOCKED_STATUS
    default_code = "sign_in_locked"

    def __init__(self, lockout: sign_in.Lockout) -> None:
        super().__init__(detail=lockout.message)
        self.wait = lockout.retry_after  # DRF's exception handler turns it into Retry-After


class ObtainTokenView(ObtainAuthToken):
    # Per address: guessing through the API is slowed before the sign-in locks count a thing.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sign-in"
    # The project's parsers (DRF's default), not the ones ObtainAuthToken pins for itself.
    parser_classes = APIView.parser_classes

    @extend_schema(
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(description="Wrong or missing username or password."),
            429: OpenApiResponse(
                description="Sign-in locked after too many wrong passwords, or too many requests; "
                "the detail says when to try again (also Retry-After, in seconds)."
            ),
        }
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if sign_in.is_locked_out(request):
                raise SignInLocked(sign_in.lockout_for(request, getattr(request, "axes_credentials", None)))
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        if settings.AXES_RESET_ON_SUCCESS:
            # The right password forgets the account's earlier mistakes, as a sign-in on a page
            # does (axes hears of that through the user_logged_in signal, which a token never sends).
            reset(username=user.get_username())
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
