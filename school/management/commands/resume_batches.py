"""Enqueue again the items of unfinished document batches.

A worker killed mid-task leaves numbers reserved in the register without their PDF,
and the queue may have lost the task: run this once when (re)starting the workers
(``python manage.py resume_batches``, then the ``db_worker`` processes). The items are
completed under the numbers they hold. Running it twice, or while workers run, issues
nothing twice; it may only make a worker render again a task another one has in hand.
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
