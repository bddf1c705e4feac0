"""The API's token authentication: DRF's token, with an end.

Its own module: DRF imports the authentication classes while ``rest_framework.views``
loads, before ``school.api`` (which needs those views) can finish loading.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def has_expired(token: Token) -> bool:
    return token.created < timezone.now() - datetime.timedelta(days=settings.API_TOKEN_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """Valid ``API_TOKEN_DAYS`` after it was handed out: a token copied into a forgotten
    script stops working on its own."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        if has_expired(token):
            raise AuthenticationFailed(_("Jeton expiré : demandez-en un nouveau."))
        return user, token
