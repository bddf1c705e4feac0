"""``manage.py export_learner <id> <file.zip>``: a learner's personal data (RGPD right of
access), as the back office's action gives it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from school.models import Learner
from school.privacy import learner_export


class Command(BaseCommand):
    help = "Exporte les données personnelles d'un apprenant (JSON et documents, en ZIP)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("learner", type=int, help="identifiant de l'apprenant")
        parser.add_argument("output", type=Path, help="fichier ZIP à écrire")

    def handle(self, *args: Any, learner: int, output: Path, **options: Any) -> None:
        found = Learner.objects.filter(pk=learner).first()
        if found is None:
            raise CommandError(f"Aucun apprenant n° {learner}.")
        output.write_bytes(learner_export(found))
        self.stdout.write(f"{output} ({output.stat().st_size} octets)")
