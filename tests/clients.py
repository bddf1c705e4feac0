"""The test client the suite signs people in with."""

from __future__ import annotations

from typing import Any

from django import test
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from school.two_factor import needs_second_factor


class Client(test.Client):
    """Django's test client; ``force_login`` of a staff member or trainer also passes
    their second factor, as the login page followed by the code page would. The second
    factor itself is tested with Django's plain client (tests/school/test_two_factor.py)."""

    def force_login(self, user: Any, backend: str | None = None) -> None:
        super().force_login(user, backend)
        if needs_second_factor(user):
            device, _created = TOTPDevice.objects.get_or_create(
                user=user, confirmed=True, defaults={"name": "test"}
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


def signed_in(user: Any, **headers: str) -> Client:
    """A client signed in as ``user`` (past the second factor, for staff and trainers),
    sending ``headers`` with each request."""
    client = Client(headers=headers)
    client.force_login(user)
    return client
