"""``manage.py backup <dossier>``: the PostgreSQL database and the media files, in a new
dated folder that ``manage.py restore`` checks and puts back (docs/backup.md).

The folder holds ``database.dump`` (``pg_dump --format=custom``), ``media.tar.gz`` and
``manifest.json``: what restore must find again, row by row count and file by file
SHA-256. This module also owns the manifest's format, which ``restore`` reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

MANIFEST_FORMAT = 1
DUMP = "database.dump"
MEDIA = "media.tar.gz"
MANIFEST = "manifest.json"

# The variables that choose which server and database a libpq tool talks to: those
# inherited from the shell are dropped, so that a PGHOST exported for some other task
# can never make the tools dump or overwrite a database other than Django's own.
_TARGET_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
_OPTION_VARIABLES = {
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


def refuse_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise CommandError(
            _(
                "La sauvegarde et la restauration sont prévues pour PostgreSQL ; la base "
                "configurée est %(vendor)s. Avec SQLite, arrêtez le serveur puis copiez "
                "le fichier de la base (%(name)s) et le dossier MEDIA_ROOT (%(media)s)."
            )
            % {
                "vendor": connection.vendor,
                "name": connection.settings_dict["NAME"],
                "media": settings.MEDIA_ROOT,
            }
        )


def libpq_environment(database: dict[str, Any]) -> dict[str, str]:
    """The environment under which pg_dump / pg_restore reach ``database`` (a
    ``settings.DATABASES`` entry): the password never appears on a command line."""
    env = {key: value for key, value in os.environ.items() if key not in _TARGET_VARIABLES}
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if database.get(key):
            env[variable] = str(database[key])
    for option, variable in _OPTION_VARIABLES.items():
        if database.get("OPTIONS", {}).get(option):
            env[variable] = str(database["OPTIONS"][option])
    return env


def client_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CommandError(
            _(
                "%(tool)s est introuvable : installez le client PostgreSQL de la même "
                "version que le serveur (paquet postgresql-client) ou ajoutez son dossier "
                "au PATH."
            )
            % {"tool": name}
        )
    return found


def run_tool(args: list[str], env: dict[str, str]) -> str:
    """Run a PostgreSQL client tool; its own words, in a CommandError, when it fails."""
    done = subprocess.run(  # noqa: S603 — an absolute tool path and fixed options, no shell
        args, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CommandError(
            _("%(tool)s a échoué (code %(code)d) : %(error)s")
            % {
                "tool": Path(args[0]).name,
                "code": done.returncode,
                "error": done.stderr.strip()[-2000:],
            }
        )
    return done.stdout


def raw_connection() -> psycopg.Connection[Any]:
    """A connection of its own to Django's database, outside Django's transaction
    handling: the backup holds a snapshot in it, the restore checks through it."""
    return psycopg.connect(**connection.get_connection_params())


def table_row_counts(cursor: psycopg.Cursor[Any]) -> dict[str, int]:
    """Rows per table, ``schema.table``, in every schema pg_dump saves (not only the
    tables Django knows: whatever is in the dump must come back)."""
    cursor.execute(
        """
        SELECT n.nspname, c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        ORDER BY n.nspname, c.relname
        """
    )
    tables = cursor.fetchall()
    counts: dict[str, int] = {}
    for schema, table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)))
        row = cursor.fetchone()
        counts[f"{schema}.{table}"] = row[0] if row else 0
    return counts


def latest_migrations(cursor: psycopg.Cursor[Any]) -> dict[str, str]:
    """The last migration applied of each app: restore compares it with the code it
    runs under. Django numbers migrations with zero-padded prefixes, so the greatest
    name is the latest one."""
    cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(cursor.fetchall())


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file under ``root``, by its POSIX path relative to it. Symbolic
    links are not followed: a link could carry files from outside the media in."""
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def file_digest(path: Path) -> dict[str, Any]:
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return {"sha256": digest, "size": path.stat().st_size}


class _Digesting:
    """Hashes the bytes tarfile reads, so that the manifest describes exactly what went
    into the archive even if a file were rewritten while it is being archived."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha256.update(data)
        return data


def archive_media(root: Path, target: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    # PDFs and images are compressed already: a lighter level costs little space.
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        for name, path in media_files(root):
            info = archive.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as stream:
                reader = _Digesting(stream)
                archive.addfile(info, reader)
            files[name] = {"sha256": reader.sha256.hexdigest(), "size": info.size}
    return files


class Command(BaseCommand):
    help = _(
        "Sauvegarde la base PostgreSQL et les fichiers (MEDIA_ROOT) dans un nouveau "
        "dossier daté, avec un manifeste que « restore » vérifie."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help=_("dossier où créer la sauvegarde datée"))

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        refuse_unless_postgresql()
        pg_dump = client_tool("pg_dump")
        # UTC in the name: the autumn clock change cannot give two backups one name.
        name = "metaltech-" + timezone.now().strftime("%Y%m%d-%H%M%SZ")
        final = directory / name
        if final.exists():
            raise CommandError(_("%(path)s existe déjà.") % {"path": final})
        # Written under a temporary name and renamed when complete: a backup cut short
        # (full disk, killed cron) never looks like one, and restore refuses it.
        partial = directory / f"{name}.partial"
        directory.mkdir(parents=True, exist_ok=True)
        # The dump holds minors' personal data: only the account that runs backups reads it.
        partial.mkdir(mode=0o700)
        try:
            manifest = self.write(partial, pg_dump)
            partial.rename(final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self.stdout.write(
            _(
                "Sauvegarde écrite dans %(path)s : %(tables)d tables, %(rows)d lignes, "
                "%(files)d fichiers."
            )
            % {
                "path": final,
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "files": len(manifest["media"]),
            }
        )

    def write(self, folder: Path, pg_dump: str) -> dict[str, Any]:
        database = connection.settings_dict
        env = libpq_environment(database)
        created_at = timezone.now()
        with raw_connection() as snapshot_holder:
            # The counts in the manifest must be those of the dump, even while the school
            # keeps working: pg_dump reads the very snapshot this transaction exports, and
            # the rows are counted in it.
            snapshot_holder.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            snapshot_holder.read_only = True
            with snapshot_holder.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, server_version = cursor.fetchone() or ("", "")
                run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        f"--file={folder / DUMP}",
                    ],
                    env,
                )
                tables = table_row_counts(cursor)
                migrations = latest_migrations(cursor)
        # The media are archived after the dump: a file added meanwhile is only an
        # unreferenced extra, whereas archiving first could miss a file the dump names.
        media = archive_media(Path(settings.MEDIA_ROOT), folder / MEDIA)
        manifest = {
            "format": MANIFEST_FORMAT,
            "created_at": created_at.isoformat(),
            "database": {
                "name": database["NAME"],
                "server_version": server_version,
                "pg_dump_version": run_tool([pg_dump, "--version"], env).strip(),
            },
            "archives": {
                DUMP: file_digest(folder / DUMP),
                MEDIA: file_digest(folder / MEDIA),
            },
            "migrations": migrations,
            "tables": tables,
            "media": media,
        }
        (folder / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a backup folder, once its archives are checked against it."""
    path = folder / MANIFEST
    if not path.is_file():
        raise CommandError(
            _(
                "%(path)s est introuvable : indiquez le dossier daté d'une sauvegarde "
                "terminée (metaltech-AAAAMMJJ-HHMMSSZ, pas un dossier .partial)."
            )
            % {"path": path}
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise CommandError(
            _("%(path)s est illisible : %(error)s") % {"path": path, "error": error}
        ) from error
    if manifest.get("format") != MANIFEST_FORMAT:
        raise CommandError(
            _("%(path)s n'est pas un manifeste de sauvegarde MétalTech (format %(format)s).")
            % {"path": path, "format": manifest.get("format")}
        )
    for archive, expected in manifest["archives"].items():
        archive_path = folder / archive
        if not archive_path.is_file():
            raise CommandError(_("%(path)s est introuvable.") % {"path": archive_path})
        if file_digest(archive_path) != expected:
            raise CommandError(
                _(
                    "%(path)s ne correspond pas au manifeste (taille ou SHA-256) : la "
                    "sauvegarde est altérée ou incomplète ; rien n'a été restauré."
                )
                % {"path": archive_path}
            )
    return manifest
