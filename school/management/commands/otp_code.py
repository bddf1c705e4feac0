"""Print the code an account's authenticator app would show now — for local demos only.

``make run`` visitors sign in as the demo staff member or trainer without a phone at
hand: open the enrolment page once, then ask this command for the code. It refuses to
run with DEBUG off: in production the code comes from the person's phone, never from
the server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Code TOTP du moment pour un compte (développement seulement, DEBUG=1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Réservé au développement (DEBUG=1) : le code vient du téléphone.")
        device = TOTPDevice.objects.filter(user__email__iexact=email).order_by("-confirmed").first()
        if device is None:
            raise CommandError(
                f"Aucune application enrôlée pour {email} : connectez-vous d'abord, "
                "la page de double authentification crée la clé."
            )
        self.stdout.write(f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}")
