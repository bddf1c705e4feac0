"""``manage.py seed_large``: a generated network of schools for load tests (see
``school.large`` and docs/benchmarks.md, « Jeu de données large »)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from school.large import (
    CITIES,
    describe,
    is_loaded,
    number,
    parts,
    plan_network,
    say,
    seconds,
)
from school.models import Learner, User


class Command(BaseCommand):
    help = _(
        "Génère un grand réseau d'écoles fictif (30 écoles par défaut) pour les mesures de "
        "charge ; refuse une base qui contient déjà des données, sauf --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schools",
            type=int,
            default=30,
            help=_("Nombre d'écoles, de 1 à %(max)d (30 par défaut).") % {"max": len(CITIES)},
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help=_("Graine du hasard (2026 par défaut).")
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=_(
                "Ajoute le réseau à une base qui a déjà des données (la démonstration, par "
                "exemple) ; jamais une seconde fois le réseau lui-même."
            ),
        )

    def handle(self, *args: Any, schools: int, seed: int, force: bool, **options: Any) -> None:
        if not 1 <= schools <= len(CITIES):
            raise CommandError(
                _("--schools va de 1 à %(max)d.") % {"max": len(CITIES)},
            )
        network = plan_network(self.stdout, schools=schools, seed=seed)
        if is_loaded(network):
            raise CommandError(
                _(
                    "Le jeu de données large est déjà dans cette base : rien n'est ajouté. "
                    "Repartez d'une base vide pour le régénérer."
                )
            )
        if not force and (User.objects.exists() or Learner.objects.exists()):
            raise CommandError(
                _(
                    "Cette base contient déjà des données : le jeu large se charge dans une "
                    "base neuve (ou avec --force, à côté de ce qui s'y trouve)."
                )
            )
        say(
            self.stdout,
            ngettext(
                "Jeu de données large : %(schools)s école, graine %(seed)s, années "
                "scolaires %(first)s et %(current)s (aujourd'hui : %(today)s).",
                "Jeu de données large : %(schools)s écoles, graine %(seed)s, années "
                "scolaires %(first)s et %(current)s (aujourd'hui : %(today)s).",
                schools,
            )
            % describe(network),
        )
        began = time.perf_counter()
        # All or nothing, as seed_demo. DEBUG off while it runs: in DEBUG, Django keeps the
        # text of every query, and a bulk insert's is megabytes long.
        with override_settings(DEBUG=False), transaction.atomic():
            for part in parts():
                part.build(network)
        if connection.vendor == "postgresql":
            # Fresh planner statistics: query plans read on this data set (EXPLAIN) are
            # then those of a database that has lived, not of one just loaded.
            with (
                network.step(_("Statistiques du planificateur (ANALYZE)")),
                connection.cursor() as cursor,
            ):
                cursor.execute("ANALYZE")
        say(
            self.stdout,
            _("Terminé en %(elapsed)s.") % {"elapsed": seconds(time.perf_counter() - began)},
        )
        say(self.stdout, _("Lignes par table :"))
        for part in parts():
            for label, model in part.tables:
                count = model._default_manager.count()
                say(self.stdout, f"  {label!s:<34} {number(count):>12}")
