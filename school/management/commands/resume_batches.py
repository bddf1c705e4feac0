"""Enqueue again the items of unfinished document batches.

A worker killed mid-batch rolls back the item it was issuing, and the queue may have
lost that task: run this before starting the workers
(``python manage.py resume_batches && python manage.py db_worker``). Running it twice,
or while workers run, is harmless: an item already issued is skipped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from school.batches import resume_unfinished


class Command(BaseCommand):
    help = "Remet en file les documents non encore émis des lots inachevés."

    def handle(self, *args: Any, **options: Any) -> None:
        count = resume_unfinished()
        self.stdout.write(f"{count} document(s) remis en file.")
