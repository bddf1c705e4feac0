"""Daily (cron): the customers of invoices still unpaid 15 days after their due date
get one reminder e-mail each (sent by the task worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.services import payment_reminders


class Command(BaseCommand):
    help = "Relance par courriel les clients des factures impayées 15 jours après l'échéance."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = payment_reminders()
        self.stdout.write(f"{sent} relance(s) de facture envoyée(s).")
