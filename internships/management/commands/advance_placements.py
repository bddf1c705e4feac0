"""Daily (cron): signed placements become « en cours » on their first day and
« terminés » after their last."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from internships.services import placements_advance


class Command(BaseCommand):
    help = "Passe les stages signés en cours, puis terminés, selon leurs dates."

    def handle(self, *args: Any, **options: Any) -> None:
        moved = placements_advance()
        self.stdout.write(f"{moved} stage(s) mis à jour.")
