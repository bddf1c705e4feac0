"""``manage.py seed_demo``: load the fictional demo data; safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils.translation import gettext as _

from school.demo import DEMO_LOGINS, DEMO_PASSWORD, run_seeders
from school.models import Role

QUIET_MAIL = "django.core.mail.backends.locmem.EmailBackend"


class Command(BaseCommand):
    help = _("Charge les données de démonstration (fictives) ; peut être relancée sans risque.")

    def handle(self, *args: Any, **options: Any) -> None:
        # All or nothing: a seeder failing half-way must not leave a demo half-built.
        # The notifications the demo's writes send (applications, signatures) are kept
        # in memory: their recipients are fictional, and the console stays readable.
        with override_settings(EMAIL_BACKEND=QUIET_MAIL), transaction.atomic():
            run_seeders(self.stdout)
        self.stdout.write(
            _("Comptes de démonstration (mot de passe : %(password)s) :")
            % {"password": DEMO_PASSWORD}
        )
        for account in DEMO_LOGINS:
            self.stdout.write(f"  {account.email:<28} {Role(account.role).label}")
