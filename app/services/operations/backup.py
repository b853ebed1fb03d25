"""`bihuan backup` / `bihuan restore`: the database and the photos in one directory
(docs/deploy.md, "Backups").

A backup is a new directory holding

- `database.pgdump` (PostgreSQL: `pg_dump --format=custom`, the server's own tool) or
  `database.sqlite` (SQLite: the online backup API, a consistent copy while the app runs);
- `media/<aa>/<sha256>`: every original photo of the storage backend (local disk or S3),
  named by its SHA-256, so each one is checked when restored. Derivatives are not copied:
  they are made again from the originals on first request;
- `manifest.json`: what it holds, with the database file's SHA-256, written last (a
  directory without it is an unfinished backup and is refused by restore).

The database is copied first, then the photos: blobs are never changed, only added, so every
photo the dumped rows name is there when the photos are copied (unless `bihuan media gc
--delete` removes orphans meanwhile: do not run the two at once).
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from app.services.media.storage import BlobStorage

FORMAT = "bihuan-backup/1"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


class BackupProblem(Exception):
    """The backup or restore cannot be done (a tool missing, a target in use, a bad copy)."""


@dataclass(frozen=True)
class Summary:
    path: Path
    database: str
    photos: int
    photo_bytes: int


def backup(database_url: str, storage: BlobStorage, into: Path, *, now: datetime) -> Summary:
    """Write a new backup directory `into` (it must not exist yet)."""
    try:
        into.mkdir(parents=True)
    except FileExistsError as error:
        raise BackupProblem(f"{into} exists: a backup goes into a new directory") from error
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = into / "database.sqlite"
        _sqlite_copy(_sqlite_path(url), database)
    elif url.get_backend_name() == "postgresql":
        database = into / "database.pgdump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--file={database}", *_pg_args(url)], url)
    else:
        raise BackupProblem(f"cannot back up a {url.get_backend_name()} database")
    photos, size = 0, 0
    for sha256 in _originals(storage):
        target = into / "media" / sha256[:2] / sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(sha256) as blob, target.open("wb") as out:
            shutil.copyfileobj(blob, out, CHUNK)
        photos, size = photos + 1, size + target.stat().st_size
    manifest = {"format": FORMAT, "created_at": now.isoformat(),
                "database": database.name, "database_sha256": _file_digest(database),
                "photos": photos, "photo_bytes": size}
    (into / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return Summary(into, database.name, photos, size)


def restore(source: Path, database_url: str, storage: BlobStorage) -> Summary:
    """Restore a backup into the database of `database_url` (empty: a new database) and the
    storage backend; every file is checked against its digest first."""
    manifest = read_manifest(source)
    database = source / manifest["database"]
    if _file_digest(database) != manifest["database_sha256"]:
        raise BackupProblem(f"{database} does not match the digest in its manifest: damaged")
    blobs = list(_backup_blobs(source))
    for sha256, path in blobs:
        if _file_digest(path) != sha256:
            raise BackupProblem(f"photo {path} does not match its name (SHA-256): damaged")
    url = make_url(database_url)
    if database.suffix == ".sqlite":
        if url.get_backend_name() != "sqlite":
            raise BackupProblem("this backup holds a SQLite database: restore it into SQLite")
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupProblem(f"{target} exists: restore into a new database file")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(database, target)
    else:
        if url.get_backend_name() != "postgresql":
            raise BackupProblem("this backup holds a PostgreSQL dump: restore it into "
                                "PostgreSQL")
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", *_pg_args(url, option="--dbname"), str(database)], url)
    size = 0
    for sha256, path in blobs:
        with path.open("rb") as blob:
            storage.put(sha256, blob)
        size += path.stat().st_size
    return Summary(source, database.name, len(blobs), size)


def read_manifest(source: Path) -> dict[str, object]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupProblem(f"{source} holds no readable {MANIFEST}: not a finished backup"
                            ) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupProblem(f"{source / MANIFEST} is not a bihuan backup ({FORMAT})")
    return manifest


def _originals(storage: BlobStorage) -> Iterator[str]:
    for info in storage.iter_originals():
        yield info.sha256


def _backup_blobs(source: Path) -> Iterator[tuple[str, Path]]:
    media = source / "media"
    if not media.is_dir():
        return
    for folder in sorted(media.iterdir()):
        for path in sorted(folder.iterdir()):
            yield path.name, path


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupProblem("DATABASE_URL names no SQLite file")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy, page by page, while writers go on."""
    if not source.is_file():
        raise BackupProblem(f"no SQLite database at {source}")
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_args(url: URL, option: str = "--dbname") -> list[str]:
    """Connection arguments for the PostgreSQL tools; the password goes by environment."""
    args = []
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    args.append(f"{option}={url.database}")
    return args


def _run(command: list[str], url: URL) -> None:
    if shutil.which(command[0]) is None:
        raise BackupProblem(f"{command[0]} is not installed (the PostgreSQL client tools, "
                            "of the server's major version)")
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupProblem(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
