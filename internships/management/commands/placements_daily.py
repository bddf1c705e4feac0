"""Daily (cron): signed placements become « en cours » on their first day and
« terminés » after their last (their tutor then gets the evaluation link); tutors who
have not evaluated are reminded 3 and 10 days after the link was sent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from internships.services import evaluation_reminders, placements_advance


class Command(BaseCommand):
    help = (
        "Fait avancer les stages selon leurs dates (en cours, terminés, évaluation demandée) "
        "et relance les tuteurs qui n'ont pas évalué."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        moved = placements_advance()
        reminded = evaluation_reminders()
        self.stdout.write(f"{moved} stage(s) mis à jour, {reminded} relance(s) envoyée(s).")
