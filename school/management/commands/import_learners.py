"""``manage.py import_learners FICHIER.csv [--cohort PROMOTION] [--dry-run]``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from school.resources import (
    ImportFileError,
    LearnerCSV,
    LearnerResource,
    describe_read_error,
    find_cohort,
)


class Command(BaseCommand):
    help = (
        "Importe des apprenants depuis un fichier CSV (séparateur ; ou ,) et les inscrit "
        "dans leur promotion. Tout ou rien : une seule ligne en erreur et rien n'est écrit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="fichier CSV, UTF-8 avec ou sans BOM")
        parser.add_argument(
            "--cohort",
            help="promotion (nom ou numéro) des lignes dont la colonne « promotion » est vide",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="vérifier le fichier sans rien enregistrer"
        )

    def handle(
        self, *args: Any, file: Path, cohort: str | None, dry_run: bool, **options: Any
    ) -> None:
        default_cohort = None
        if cohort:
            default_cohort = find_cohort(cohort)
            if default_cohort is None:
                raise CommandError(_("Promotion « %(cohort)s » introuvable.") % {"cohort": cohort})
        try:
            dataset = LearnerCSV(encoding="utf-8-sig").create_dataset(file.read_bytes())
        except OSError as error:
            raise CommandError(
                _("Impossible de lire « %(file)s » : %(error)s")
                % {"file": file, "error": error.strerror}
            ) from None
        except (ImportFileError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(describe_read_error(error)) from None

        result = LearnerResource(default_cohort=default_cohort).import_data(
            dataset, dry_run=dry_run
        )
        problems = result.error_messages()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                ngettext(
                    "Fichier refusé (%(count)d problème) : aucun apprenant n'a été importé.",
                    "Fichier refusé (%(count)d problèmes) : aucun apprenant n'a été importé.",
                    len(problems),
                )
                % {"count": len(problems)}
            )
        if dry_run:
            self.stdout.write(
                _("Fichier valide, rien n'a été enregistré (--dry-run) : %(summary)s")
                % {"summary": result.summary(dry_run=True)}
            )
        else:
            self.stdout.write(result.summary())
