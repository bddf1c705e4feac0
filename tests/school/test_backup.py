"""The backup procedure (docs/backup.md) gives everything back: the demo school, backed
up with ``manage.py backup`` and restored by ``manage.py restore`` into a second, empty
database and media folder, comes back with every row of every table and every file's
bytes; an altered backup is refused, and so is a restore nobody confirmed.

The restore runs as an operator would run it, in its own process, its DATABASE_URL and
MEDIA_ROOT pointing at the fresh database and folder (PostgreSQL only: the procedure
is pg_dump / pg_restore)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from school.models import Enrolment, Learner, User
from school.services import document_issue
from tests.factories import LearnerFactory

PROBE = "documents/2026/MT-2026-000001.pdf"
# Tables the round trip must find full before the backup, so that it cannot pass on empty ones.
KEY_TABLES = ("school_learner", "school_issueddocument", "internships_signature")


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… to run it")


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


def connect(database: str) -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=database,
        autocommit=True,
    )


@pytest.fixture
def fresh_database(postgres: None) -> Iterator[str]:
    """An empty database on the same server, beside the test database."""
    name = f"{connection.settings_dict['NAME']}_restore"
    with connect("postgres") as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with connect("postgres") as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def restore(
    backup: Path, database: str, media_root: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``manage.py restore`` in a process of its own, configured for ``database`` as a
    deployment would be, through its environment."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{database}",
        "MEDIA_ROOT": str(media_root),
        "DEBUG": "1",
    }
    manage = Path(django_settings.BASE_DIR) / "manage.py"
    return subprocess.run(
        [sys.executable, str(manage), "restore", str(backup), *options],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def back_up(tmp_path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", tmp_path / "backups", stdout=out)
    [folder] = (tmp_path / "backups").iterdir()
    assert str(folder) in out.getvalue()
    return folder


def tables(database: str) -> list[str]:
    with connect(database) as db:
        rows = db.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    return [table for (table,) in rows]


def every_row(database: str, table: str) -> list[str]:
    """Each row in PostgreSQL's own text form, every column and type included, sorted."""
    with connect(database) as db:
        query = sql.SQL("SELECT t::text FROM {} AS t ORDER BY 1").format(sql.Identifier(table))
        return [row for (row,) in db.execute(query).fetchall()]


def sequences(database: str) -> dict[str, int | None]:
    with connect(database) as db:
        return dict(db.execute("SELECT sequencename, last_value FROM pg_sequences").fetchall())


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_demo_school_comes_back_whole_in_a_fresh_database(
    media: Path, fresh_database: str, tmp_path: Path
) -> None:
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    lea = Learner.objects.get(user__email="eleve@metaltech.test")
    document_issue(
        kind="attestation_fin_formation",
        subject=Enrolment.objects.get(learner=lea),
        by=User.objects.get(email="direction@metaltech.test"),
    )
    source = connection.settings_dict["NAME"]
    source_tables = tables(source)
    rows = {table: every_row(source, table) for table in source_tables}
    saved = files(media)
    assert all(rows[table] for table in KEY_TABLES)
    assert any(name.startswith("documents/") for name in saved)
    assert any(name.startswith("orders/") for name in saved)

    backup = back_up(tmp_path)
    restored_media = tmp_path / "restored-media"
    done = restore(backup, fresh_database, restored_media, "--yes")

    assert done.returncode == 0, done.stderr
    total = sum(len(table_rows) for table_rows in rows.values())
    assert (
        f"{len(source_tables)} tables, {total} lignes, {len(saved)} fichiers vérifiés."
        in done.stdout
    )
    assert tables(fresh_database) == source_tables
    for table in source_tables:
        assert every_row(fresh_database, table) == rows[table], table
    # New rows must not collide with restored ones: the id sequences come back too.
    assert sequences(fresh_database) == sequences(source)
    assert files(restored_media) == saved


@pytest.fixture
def small_backup(postgres: None, media: Path, tmp_path: Path) -> Path:
    LearnerFactory(last_name="Martin")
    default_storage.save(PROBE, ContentFile(b"%PDF-1.7 attestation"))
    return back_up(tmp_path)


def manifest_of(backup: Path) -> dict[str, Any]:
    return json.loads((backup / "manifest.json").read_text(encoding="utf-8"))


def edit_manifest(backup: Path, change: Callable[[dict[str, Any]], None]) -> None:
    manifest = manifest_of(backup)
    change(manifest)
    (backup / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def rewrite_media(backup: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    archive_path = backup / "media.tar.gz"
    with tarfile.open(archive_path) as archive:
        contents = {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
        }
    change(contents)
    with tarfile.open(archive_path, "w:gz") as archive:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def forge_archive_digest(backup: Path) -> None:
    """What a careful forger does: the manifest's digest of the archive made to match."""
    data = (backup / "media.tar.gz").read_bytes()
    edit_manifest(
        backup,
        lambda manifest: manifest["archives"].update(
            {"media.tar.gz": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}}
        ),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_altered_media_archive_is_refused_before_anything_is_touched(
    small_backup: Path, fresh_database: str, tmp_path: Path
) -> None:
    rewrite_media(small_backup, lambda contents: contents.update({PROBE: b"%PDF-1.7 falsified"}))

    done = restore(small_backup, fresh_database, tmp_path / "restored", "--yes")

    assert done.returncode != 0
    assert "media.tar.gz ne correspond pas au manifeste" in done.stderr
    assert "rien n'a été restauré" in done.stderr
    assert tables(fresh_database) == []
    assert not (tmp_path / "restored").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_file_altered_with_a_forged_archive_digest_fails_the_verification(
    small_backup: Path, fresh_database: str, tmp_path: Path
) -> None:
    rewrite_media(small_backup, lambda contents: contents.update({PROBE: b"%PDF-1.7 falsified"}))
    forge_archive_digest(small_backup)

    done = restore(small_backup, fresh_database, tmp_path / "restored", "--yes")

    assert done.returncode != 0
    assert "La restauration ne correspond pas à la sauvegarde" in done.stderr
    assert f"fichier {PROBE} : contenu différent de la sauvegarde (SHA-256)" in done.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_count_that_does_not_match_the_manifest_fails_the_verification(
    small_backup: Path, fresh_database: str, tmp_path: Path
) -> None:
    edit_manifest(
        small_backup, lambda manifest: manifest["tables"].update({"public.school_learner": 2})
    )

    done = restore(small_backup, fresh_database, tmp_path / "restored", "--yes")

    assert done.returncode != 0
    assert "table public.school_learner : 2 lignes attendues, 1 trouvées" in done.stderr
    assert "fichiers vérifiés" not in done.stdout


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_archive_member_leading_out_of_the_media_is_refused(
    small_backup: Path, fresh_database: str, tmp_path: Path
) -> None:
    escape = "../escaped.txt"
    rewrite_media(small_backup, lambda contents: contents.update({escape: b"outside"}))
    forge_archive_digest(small_backup)
    edit_manifest(
        small_backup,
        lambda manifest: manifest["media"].update(
            {escape: {"sha256": hashlib.sha256(b"outside").hexdigest(), "size": 7}}
        ),
    )

    done = restore(small_backup, fresh_database, tmp_path / "restored", "--yes")

    assert done.returncode != 0
    assert "chemin refusé" in done.stderr
    assert not (tmp_path / "escaped.txt").exists()
    assert tables(fresh_database) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_without_yes_refuses_and_changes_nothing(small_backup: Path, media: Path) -> None:
    Learner.objects.all().delete()
    (media / PROBE).unlink()

    with pytest.raises(CommandError, match="relancez avec --yes"):
        call_command("restore", small_backup)

    assert not Learner.objects.exists()
    assert not (media / PROBE).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unfinished_backup_is_refused(postgres: None, tmp_path: Path) -> None:
    unfinished = tmp_path / "metaltech-20260101-020000Z.partial"
    unfinished.mkdir()

    with pytest.raises(CommandError, match=r"manifest\.json est introuvable"):
        call_command("restore", unfinished, yes=True)


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_on_sqlite_the_commands_say_to_copy_the_database_file(command: str, tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite refusal")

    with pytest.raises(CommandError, match=r"prévues pour PostgreSQL.*copiez le fichier"):
        call_command(command, tmp_path / "backups")

    assert not (tmp_path / "backups").exists()
