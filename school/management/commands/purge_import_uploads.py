"""Delete learner files uploaded for an import that nobody confirmed.

A previewed file waits in the media storage for its confirmation; an abandoned
preview would keep minors' personal data forever. Run it daily (cron, systemd timer).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

UPLOAD_FOLDER = "django-import-export"


class Command(BaseCommand):
    help = "Supprime les fichiers d'import non confirmés plus anciens que --hours heures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=float, default=24.0)

    def handle(self, *args: Any, hours: float, **options: Any) -> None:
        cutoff = timezone.now() - datetime.timedelta(hours=hours)
        files = (
            default_storage.listdir(UPLOAD_FOLDER)[1]
            if default_storage.exists(UPLOAD_FOLDER)
            else []
        )
        purged = 0
        for name in files:
            path = f"{UPLOAD_FOLDER}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                purged += 1
        self.stdout.write(f"{purged} fichier(s) supprimé(s).")
