"""``manage.py restore <dossier> --yes``: put back a backup made by ``manage.py backup``
into the configured PostgreSQL database and MEDIA_ROOT, then prove it came back whole.

Everything that can be checked without touching anything is checked first (the
archives against the manifest, the archive's paths, the code's migrations); the
database is then replaced in one transaction, the files unpacked, and every table's
row count and every file's SHA-256 compared with the manifest (docs/backup.md).
"""

from __future__ import annotations

import datetime
import tarfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.conninfo import make_conninfo

from .backup import (
    DUMP,
    MEDIA,
    client_tool,
    file_digest,
    libpq_environment,
    media_files,
    raw_connection,
    read_manifest,
    refuse_unless_postgresql,
    run_tool,
    table_row_counts,
)

# A mismatch report names this many problems, then counts the rest.
SHOWN_PROBLEMS = 20


def refuse_a_newer_backup(manifest: dict[str, Any]) -> None:
    """A backup whose schema this code does not know would restore tables the code
    cannot read: the operator must deploy the version that made it first. Apps no longer
    installed are passed over: their leftover migration rows harm nothing."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = sorted(
        f"{app}.{name}"
        for app, name in manifest["migrations"].items()
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations
    )
    if unknown:
        raise CommandError(
            _(
                "Cette sauvegarde vient d'une version plus récente de MétalTech (migrations "
                "inconnues de ce code : %(migrations)s) : déployez cette version avant de "
                "restaurer ; rien n'a été restauré."
            )
            % {"migrations": ", ".join(unknown)}
        )


def checked_members(archive: tarfile.TarFile, manifest: dict[str, Any]) -> list[tarfile.TarInfo]:
    """The archive's members, once each is known to be a file the manifest lists and to
    land inside MEDIA_ROOT. Checked before anything is written, so that a forged archive
    cannot leave a database restored and its files half unpacked."""
    members = archive.getmembers()
    media_root = Path(settings.MEDIA_ROOT)
    listed = set(manifest["media"])
    for member in members:
        if not member.isfile() or member.name not in listed:
            raise CommandError(
                _(
                    "L'archive des fichiers contient « %(name)s », que le manifeste ne "
                    "liste pas : la sauvegarde est altérée ; rien n'a été restauré."
                )
                % {"name": member.name}
            )
        try:
            # The "data" filter refuses absolute paths, "..", links leading out and
            # device files: the same filter extraction applies.
            tarfile.data_filter(member, str(media_root))
        except tarfile.FilterError as error:
            raise CommandError(
                _(
                    "L'archive des fichiers contient un chemin refusé (%(error)s) : la "
                    "sauvegarde est altérée ; rien n'a été restauré."
                )
                % {"error": error}
            ) from error
    missing = listed - {member.name for member in members}
    if missing:
        raise CommandError(
            _(
                "Il manque %(count)d fichier(s) du manifeste dans l'archive (dont "
                "« %(name)s ») : la sauvegarde est incomplète ; rien n'a été restauré."
            )
            % {"count": len(missing), "name": min(missing)}
        )
    return members


def mismatches(manifest: dict[str, Any], media_root: Path) -> list[str]:
    """What differs between the restored database and files and the manifest."""
    with raw_connection() as check, check.cursor() as cursor:
        found = table_row_counts(cursor)
    expected: dict[str, int] = manifest["tables"]
    problems = []
    for table in sorted(expected.keys() | found.keys()):
        if table not in found:
            problems.append(_("table %(table)s : absente de la base restaurée") % {"table": table})
        elif table not in expected:
            problems.append(
                _("table %(table)s : dans la base mais pas dans la sauvegarde") % {"table": table}
            )
        elif found[table] != expected[table]:
            problems.append(
                _("table %(table)s : %(expected)d lignes attendues, %(found)d trouvées")
                % {"table": table, "expected": expected[table], "found": found[table]}
            )
    for name, digest in sorted(manifest["media"].items()):
        path = media_root / name
        if not path.is_file():
            problems.append(_("fichier %(name)s : absent de MEDIA_ROOT") % {"name": name})
        elif file_digest(path) != digest:
            problems.append(
                _("fichier %(name)s : contenu différent de la sauvegarde (SHA-256)")
                % {"name": name}
            )
    return problems


class Command(BaseCommand):
    help = _(
        "Restaure une sauvegarde faite par « backup » dans la base PostgreSQL configurée "
        "et MEDIA_ROOT, puis vérifie chaque table et chaque fichier (--yes pour confirmer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory", type=Path, help=_("dossier daté de la sauvegarde à restaurer")
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help=_("confirme le remplacement de la base et des fichiers actuels"),
        )

    def handle(self, *args: Any, directory: Path, yes: bool, **options: Any) -> None:
        refuse_unless_postgresql()
        manifest = read_manifest(directory)
        refuse_a_newer_backup(manifest)
        pg_restore = client_tool("pg_restore")
        database = connection.settings_dict
        media_root = Path(settings.MEDIA_ROOT)
        made = timezone.localtime(datetime.datetime.fromisoformat(manifest["created_at"]))
        date = made.strftime("%d/%m/%Y %H:%M")
        with tarfile.open(directory / MEDIA, "r:gz") as archive:
            checked_members(archive, manifest)
        if not yes:
            raise CommandError(
                _(
                    "La sauvegarde du %(date)s est intacte. La restaurer remplace tout le "
                    "contenu de la base « %(name)s » (%(host)s) et réécrit les fichiers de "
                    "%(media)s : arrêtez le serveur web et les workers, puis relancez avec "
                    "--yes."
                )
                % {
                    "date": date,
                    "name": database["NAME"],
                    "host": f"{database['HOST']}:{database['PORT'] or 5432}"
                    if database["HOST"]
                    else _("socket local"),
                    "media": media_root,
                }
            )

        # Our own idle connection holds no lock, but one less session on the database
        # while its tables are dropped and created again.
        connection.close()
        target = (
            make_conninfo(dbname=database["NAME"])
            if database["NAME"]
            else make_conninfo(service=database["OPTIONS"]["service"])
        )
        run_tool(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                # One transaction: a failure half-way leaves the database as it was.
                "--single-transaction",
                # Without --dbname, pg_restore would print SQL instead of restoring.
                f"--dbname={target}",
                str(directory / DUMP),
            ],
            libpq_environment(database),
        )
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(directory / MEDIA, "r:gz") as archive:
            archive.extractall(
                media_root, members=checked_members(archive, manifest), filter="data"
            )

        problems = mismatches(manifest, media_root)
        if problems:
            shown = problems[:SHOWN_PROBLEMS]
            if len(problems) > SHOWN_PROBLEMS:
                shown.append(_("… et %(count)d autres") % {"count": len(problems) - SHOWN_PROBLEMS})
            raise CommandError(
                _("La restauration ne correspond pas à la sauvegarde du %(date)s :")
                % {"date": date}
                + "\n  "
                + "\n  ".join(shown)
            )

        listed = set(manifest["media"])
        extra = sum(1 for name, _path in media_files(media_root) if name not in listed)
        if extra:
            self.stdout.write(
                _(
                    "%(count)d fichier(s) de MEDIA_ROOT, absents de la sauvegarde, sont "
                    "laissés en place."
                )
                % {"count": extra}
            )
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            self.stdout.write(
                _(
                    "%(count)d migration(s) de ce code ne sont pas appliquées à cette "
                    "sauvegarde : lancez « manage.py migrate » avant de redémarrer."
                )
                % {"count": len(pending)}
            )
        self.stdout.write(
            _("Sauvegarde du %(date)s restaurée dans « %(name)s » et %(media)s.")
            % {
                "date": date,
                "name": database["NAME"],
                "media": media_root,
            }
        )
        self.stdout.write(
            _("%(tables)d tables, %(rows)d lignes, %(files)d fichiers vérifiés.")
            % {
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "files": len(manifest["media"]),
            }
        )
