"""The `bihuan` command: migrate, demo, serve, create-user, otp-reset, audit (verify,
checkpoint, keygen, purge), backup, restore, crypto (keygen, rekey), media gc, scale, ranking
forget, regions boundaries."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from alembic import command

from app.core.clock import get_clock
from app.core.config import get_settings, production_problems
from app.core.db import get_sessionmaker, transaction
from app.core.errors import DomainError
from app.core.logs import configure as configure_logs
from app.core.logs import logging_config
from app.core.migrations import alembic_config
from app.models.enums import Role

if TYPE_CHECKING:
    from app.services.media.gc import GcReport

cli = typer.Typer(help="bihuan 闭环: 隐患排查治理闭环系统", no_args_is_help=True)
audit = typer.Typer(help="Timeline integrity checks.", no_args_is_help=True)
cli.add_typer(audit, name="audit")
media = typer.Typer(help="Photo storage maintenance.", no_args_is_help=True)
cli.add_typer(media, name="media")
criteria = typer.Typer(help="The criteria catalogue (重大事故隐患判定标准).", no_args_is_help=True)
cli.add_typer(criteria, name="criteria")
scale = typer.Typer(help="Generated data at province scale (PostgreSQL).", no_args_is_help=True)
cli.add_typer(scale, name="scale")
ranking = typer.Typer(help="The township ranking's kept months (亮晒排名).", no_args_is_help=True)
cli.add_typer(ranking, name="ranking")
regions = typer.Typer(help="The administrative regions.", no_args_is_help=True)
cli.add_typer(regions, name="regions")
crypto = typer.Typer(help="The crypto profile (国密: SM3, SM4, HMAC-SM3) and its keys.",
                     no_args_is_help=True)
cli.add_typer(crypto, name="crypto")


def _crypto_ready() -> None:
    """Refuse to start on a database written under another profile or key (adopting the
    settings on one that holds nothing they would disagree with)."""
    from app.services.crypto.state import CryptoStateProblem, ensure_settings

    try:
        ensure_settings(get_sessionmaker(), get_settings(), get_clock().now())
    except CryptoStateProblem as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision (alembic upgrade head)."""
    command.upgrade(alembic_config(), "head")
    typer.echo("database is at the latest schema")


@cli.command()
def demo(
    if_empty: Annotated[bool, typer.Option(
        "--if-needed", help="Succeed quietly when the demo county is already loaded.")] = False,
    empty: Annotated[bool, typer.Option(
        "--empty", help="Only the organisation and its users, without the story.")] = False,
) -> None:
    """Load the demo county: its organisation, users and four months of hazards played through
    the services (refuses a database that already holds other data)."""
    import time

    from app.services.org.demo import DEMO_PASSWORD, demo_is_loaded, load_demo
    from app.services.org.demo_story import load_demo_county
    from app.worker import run_once

    _crypto_ready()
    sessions = get_sessionmaker()
    with sessions() as session:
        if if_empty and demo_is_loaded(session):
            typer.echo("demo county already loaded")
            return
    started = time.monotonic()
    try:
        if empty:
            with sessions() as session, transaction(session) as tx:
                users = list(load_demo(tx, clock=get_clock()))
        else:
            report = load_demo_county(
                sessions, clock=get_clock(),
                worker=lambda clock: run_once(sessions, clock, lambda _line: None))
            users = report.users
    except DomainError as error:
        typer.echo(f"refused: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"demo county loaded; users {', '.join(users)} with password {DEMO_PASSWORD}")
    if not empty:
        typer.echo(f"story: {report.hazards} hazards, {report.photos} photos, "
                   f"{report.worker_passes} worker passes, {time.monotonic() - started:.1f} s")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Run the HTTP server (uvicorn)."""
    import uvicorn

    settings = get_settings()
    _crypto_ready()
    if settings.secret_key_generated:
        typer.echo("SECRET_KEY not set: generated a random one (dev mode; tokens will not "
                   "survive a restart). Production (BIHUAN_ENV=production) requires one.", err=True)
        # Workers are separate processes: give them one key so tokens work across them.
        os.environ["SECRET_KEY"] = settings.secret_key
    uvicorn.run("app.main:app", host=host, port=port, workers=workers,
                # The app believes X-Forwarded-* only from TRUSTED_PROXIES (app/main.py);
                # uvicorn's own handling would trust 127.0.0.1 whatever the setting says.
                proxy_headers=False,
                log_config=logging_config(settings.logs_as), access_log=False)


@cli.command("check-config")
def check_config() -> None:
    """Refuse settings unsafe for production (exit 1, saying why each is unsafe), and
    settings the database disagrees with (chains or personal data of another crypto profile)."""
    from app.services.crypto.state import database_problems

    problems = production_problems() + database_problems(get_sessionmaker(), get_settings())
    for problem in problems:
        typer.echo(f"✗ {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("配置检查通过：可用于生产环境")


@cli.command("create-user")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(
        help="enterprise | inspector | committee | admin | security_admin | audit_admin")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
    enterprise_id: int | None = None,
    unit_id: int | None = None,
    region_id: int | None = None,
    display_name: str = "",
) -> None:
    """Create a user with the scope its role needs (enterprise, unit or region id): the
    first security admin of a new installation, who then administers the others."""
    from app.services.accounts.users import create_user as create
    from app.services.accounts.users import user_facts
    from app.services.audit.log import AuditAction, Who, record

    _crypto_ready()
    clock = get_clock()
    with get_sessionmaker()() as session:
        try:
            with transaction(session) as tx:
                user = create(tx, username=username, password=password, role=role,
                              clock=clock, display_name=display_name,
                              enterprise_id=enterprise_id, unit_id=unit_id, region_id=region_id)
                record(tx, who=Who.system(), action=AuditAction.user_create, at=clock.now(),
                       object=f"user:{user.id}",
                       detail={"before": None, "after": user_facts(user)})
        except DomainError as error:
            typer.echo(f"refused: {error.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"created user {user.username} (id {user.id}, role {role})")


@cli.command("otp-reset")
def otp_reset(username: str) -> None:
    """Forget a user's second factor (TOTP and recovery codes) and end its sessions; the user
    enrols again at the next login. Audited as done by the system. For a security admin who
    lost its phone; other users are reset by a security admin (docs/accounts.md)."""
    from app.services.accounts.credentials import reset_second_factor_of

    with get_sessionmaker()() as session:
        try:
            with transaction(session) as tx:
                user = reset_second_factor_of(tx, username, clock=get_clock())
        except DomainError as error:
            typer.echo(f"refused: {error.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"second factor of {user.username} reset; it enrols again at the next login")


@cli.command()
def backup(
    into: Annotated[Path, typer.Argument(help="A new directory for the backup.")],
) -> None:
    """Back up the database (pg_dump, or SQLite's online backup) and every photo of the
    storage backend into a new directory (docs/deploy.md)."""
    from app.services.media.storage import get_storage
    from app.services.operations.backup import BackupProblem
    from app.services.operations.backup import backup as back_up

    try:
        done = back_up(get_settings().database_url, get_storage(), into,
                       now=get_clock().now())
    except BackupProblem as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(1) from problem
    typer.echo(f"backup written to {done.path}: {done.database}, {done.photos} photos "
               f"({done.photo_bytes:,} bytes)")


@cli.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A directory written by `bihuan backup`.",
                                           exists=True, file_okay=False)],
) -> None:
    """Restore a backup into DATABASE_URL (a new, empty database) and the storage backend;
    then run `bihuan migrate` (a newer version's revisions) and `bihuan audit verify`."""
    from app.services.media.storage import get_storage
    from app.services.operations.backup import BackupProblem
    from app.services.operations.backup import restore as restore_from

    try:
        done = restore_from(source, get_settings().database_url, get_storage())
    except BackupProblem as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(1) from problem
    typer.echo(f"restored {done.database} and {done.photos} photos from {done.path}; check "
               "it with `bihuan audit verify`")


@audit.command("verify")
def audit_verify(
    checkpoint_file: Annotated[Path | None, typer.Option(
        "--checkpoint-file", help="Compare with this copy of a checkpoint (checkpoint-<id>.json "
        "beside its .heads.gz, as AUDIT_CHECKPOINT_DIR keeps them) instead of the database's "
        "latest.", exists=True, dir_okay=False, show_default=False)] = None,
    batch: Annotated[int, typer.Option(min=1, help="Hazards read per keyset batch.")] = 2000,
) -> None:
    """Recompute every hazard's hash chain and check it against the hazard's row and the
    latest signed checkpoint; name each problem (hazard code and id). Exit 1 if any."""
    from app.services.integrity.keys import KeyProblem, load_hmac_checker, load_public_key
    from app.services.integrity.verify import Verifier

    try:
        public_key = load_public_key()
        hmac_key = load_hmac_checker()
    except KeyProblem as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(2) from problem
    with get_sessionmaker()() as session:
        verifier = Verifier(session, public_key, batch=batch, checkpoint_file=checkpoint_file,
                            hmac_key=hmac_key)
        for finding in verifier.findings():
            typer.echo(finding.line())
    for note in dict.fromkeys(verifier.notes):
        typer.echo(f"note: {note}", err=True)
    against = (f" and checkpoint #{verifier.checkpoint.id} of {verifier.checkpoint.taken_at}"
               if verifier.checkpoint is not None else "")
    if verifier.problems:
        typer.echo(f"{verifier.problems} problem(s) in {verifier.events} events of "
                   f"{verifier.hazards} hazards", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {verifier.events} events verified; every chain is intact "
               f"({verifier.hazards} hazards agree with their timeline{against}; the audit "
               f"log's {verifier.audit.entries} entries are intact)")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the head of every hazard's chain with AUDIT_SIGNING_KEY_FILE (HMAC-SM3 with
    AUDIT_HMAC_KEY_FILE under CRYPTO_PROFILE=gm) and keep the checkpoint (in the database; in
    AUDIT_CHECKPOINT_DIR when set, and in the S3 bucket when photos are stored there, unless
    AUDIT_CHECKPOINT_S3=false)."""
    from app.services.integrity.checkpoints import CopyProblem, checkpoint_bucket, take_checkpoint
    from app.services.integrity.keys import KeyProblem, load_signer

    settings = get_settings()
    try:
        key = load_signer()
        bucket = checkpoint_bucket(settings)
    except (KeyProblem, CopyProblem) as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(1) from problem
    with get_sessionmaker()() as session, transaction(session) as tx:
        checkpoint = take_checkpoint(tx, key=key, now=get_clock().now(),
                                     copy_dir=settings.audit_checkpoint_dir, bucket=bucket)
        line = (f"checkpoint #{checkpoint.id}: {checkpoint.hazards} hazards, "
                f"{checkpoint.events} events, heads {checkpoint.heads_digest[:16]}… signed by "
                f"key {checkpoint.key_id[:16]}…")
        copied = checkpoint.copied_to
    typer.echo(line)
    for where in (copied or "").splitlines():
        typer.echo(f"copy written to {where}")


@audit.command("purge")
def audit_purge(
    days: Annotated[int | None, typer.Option(
        help="Keep this many days (at least AUDIT_RETENTION_DAYS, the default).")] = None,
) -> None:
    """Delete the security audit log's entries older than AUDIT_RETENTION_DAYS (at least 180)
    and record that it did; verification then starts after the last one deleted."""
    from app.services.audit.purge import purge

    settings = get_settings()
    keep = settings.audit_retention_days if days is None else days
    if keep < settings.audit_retention_days:
        typer.echo(f"refused: entries are kept at least AUDIT_RETENTION_DAYS="
                   f"{settings.audit_retention_days} days", err=True)
        raise typer.Exit(1)
    with get_sessionmaker()() as session, transaction(session) as tx:
        purged = purge(tx, now=get_clock().now(), retention_days=keep)
    typer.echo(f"purged {purged.deleted} audit log entries older than "
               f"{purged.cutoff.isoformat(timespec='seconds')}; the log now starts after seq "
               f"{purged.up_to_seq}")


@audit.command("keygen")
def audit_keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the new private key (PEM).")],
) -> None:
    """Create the Ed25519 checkpoint key (mode 0600) and print its public key."""
    from app.services.integrity.keys import generate, key_id, public_pem

    try:
        public = generate(path)
    except FileExistsError as error:
        typer.echo(f"refused: {path} exists (a key is never overwritten)", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"private key written to {path}: set AUDIT_SIGNING_KEY_FILE={path}, keep a "
               "copy offline, never in the database or beside its backups")
    typer.echo(f"key id {key_id(public)}; public key (for AUDIT_PUBLIC_KEY_FILE):")
    typer.echo(public_pem(public), nl=False)


@media.command("gc")
def media_gc(
    grace_hours: Annotated[int | None, typer.Option(
        min=0, help="Keep unreferenced blobs younger than this (default: MEDIA_GC_GRACE_HOURS).",
        show_default=False)] = None,
    delete: Annotated[bool, typer.Option(
        "--delete/--dry-run",
        help="Delete old unreferenced blobs and staging leftovers; by default only report.")
    ] = False,
) -> None:
    """Find blobs no photo refers to, and photos whose blob is missing (exit 1 if any);
    staging files older than an hour (left by a killed upload) too."""
    from datetime import timedelta

    from app.services.media.gc import collect_garbage
    from app.services.media.storage import get_storage

    hours = get_settings().media_gc_grace_hours if grace_hours is None else grace_hours
    with get_sessionmaker()() as session:
        report = collect_garbage(session, get_storage(), now=get_clock().now(),
                                 grace=timedelta(hours=hours), delete=delete,
                                 staging=get_settings().media_root / "staging")
    _print_gc_report(report, hours, delete)
    if report.missing:
        typer.echo(f"{len(report.missing)} photo(s) refer to a missing blob: evidence lost, "
                   "restore it from a backup", err=True)
        raise typer.Exit(1)


def _print_gc_report(report: "GcReport", hours: int, delete: bool) -> None:
    for missing in report.missing:
        typer.echo(f"MISSING blob {missing.sha256} of photo {missing.photo_id} "
                   f"(hazard {missing.hazard_code})")
    deleted = set(report.deleted)
    for orphan in report.orphans:
        fate = _orphan_fate(orphan.sha256 in deleted, report.is_old(orphan), delete, hours)
        typer.echo(f"ORPHAN {orphan.sha256} {orphan.size} bytes, stored "
                   f"{orphan.modified_at.isoformat(timespec='seconds')}: {fate}")
    typer.echo(f"{report.blobs} blobs stored, {report.referenced} referenced by photos; "
               f"{len(report.orphans)} unreferenced ({len(report.old_orphans)} older than "
               f"{hours} h, {len(report.deleted)} deleted)")
    from app.services.media.gc import STAGING_MAX_AGE

    removed = set(report.staged_removed)
    for staged in report.staged:
        fate = "removed" if staged.name in removed else "would be removed (run with --delete)"
        typer.echo(f"STAGED {staged.name} {staged.size} bytes, last written "
                   f"{staged.modified_at.isoformat(timespec='seconds')}: {fate}")
    typer.echo(f"{len(report.staged)} staging file(s) older than "
               f"{STAGING_MAX_AGE.total_seconds() / 3600:g} h left by interrupted uploads, "
               f"{len(report.staged_removed)} removed")


def _orphan_fate(deleted: bool, old: bool, delete: bool, hours: int) -> str:
    if deleted:
        return "deleted"
    if not old:
        return f"kept (younger than {hours} h)"
    # Old and asked to delete, yet kept: a photo row came to refer to it during the run.
    return "kept (now referenced)" if delete else "would be deleted (run with --delete)"


@criteria.command("import")
def criteria_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="UTF-8 CSV with the catalogue's columns.")],
    completeness: Annotated[str | None, typer.Option(
        help="complete | partial: does the file hold the whole document? "
             "(default: an existing document keeps its own, a new one is partial)",
        show_default=False)] = None,
    completeness_note: Annotated[str | None, typer.Option(
        help="What is missing, or where the text was checked.", show_default=False)] = None,
    issuing_number: Annotated[str | None, typer.Option(
        help="The document's 文号.", show_default=False)] = None,
) -> None:
    """Replace the entries of each document in FILE (by doc_code); others are untouched.

    Replaced entries are superseded, not deleted; a file with any bad row writes nothing.
    """
    from app.services.criteria import catalogue as criteria_service

    with get_sessionmaker()() as session:
        try:
            with transaction(session) as tx:
                results = criteria_service.import_csv(
                    tx, file.read_bytes(), now=get_clock().now(),
                    completeness=criteria_service.parse_completeness(completeness),
                    completeness_note=completeness_note, issuing_number=issuing_number)
        except DomainError as error:
            typer.echo("refused, nothing imported:", err=True)
            for line in _detail_lines(error.detail):
                typer.echo(f"  {line}", err=True)
            raise typer.Exit(1) from None
    for r in results:
        typer.echo(f"{r.document.code} {r.document.title}: {'new, ' if r.created else ''}"
                   f"{r.added} added, {r.kept} unchanged, {r.superseded} superseded; "
                   f"{r.verified} verified, {r.single_source} single source, "
                   f"{r.unverified} unverified; completeness {r.document.completeness}")


@regions.command("boundaries")
def regions_boundaries(
    file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="GeoJSON FeatureCollection: properties.code (12-digit township code), "
             "a Polygon or MultiPolygon in longitude, latitude.")],
) -> None:
    """Load township boundaries: public tips are then placed by the point in them.

    Townships in FILE get its outline, others keep theirs; a file with any bad feature loads
    nothing.
    """
    from app.services.org import boundaries

    with get_sessionmaker()() as session:
        try:
            with transaction(session) as tx:
                loaded = boundaries.load_boundaries(tx, file.read_bytes())
        except DomainError as error:
            typer.echo("refused, nothing loaded:", err=True)
            for line in _detail_lines(error.detail):
                typer.echo(f"  {line}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{loaded.townships} township boundaries loaded")


@criteria.command("documents")
def criteria_documents() -> None:
    """List the catalogue's documents with completeness and entry counts."""
    from app.services.criteria import catalogue as criteria_service

    with get_sessionmaker()() as session:
        for s in criteria_service.list_documents(session):
            d = s.document
            replaced = f"; replaced by {d.superseded_by.code}" if d.superseded_by else ""
            typer.echo(f"{d.code} {d.title} ({d.issuing_number or '-'}): {d.completeness}; "
                       f"{s.verified} verified, {s.single_source} single source, "
                       f"{s.unverified} unverified, {s.superseded} superseded{replaced}")


def _detail_lines(detail: object) -> list[str]:
    """A DomainError's detail as lines: row and column first for a file's errors."""
    if not isinstance(detail, list):
        return [str(detail)]
    lines = []
    for error in detail:
        if isinstance(error, dict) and "row" in error:
            lines.append(f"row {error['row']}, {error['column'] or '-'}: {error['msg']}")
        else:
            lines.append(str(error.get("msg", error) if isinstance(error, dict) else error))
    return lines


@cli.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one scan and exit.")] = False,
    interval: Annotated[float | None, typer.Option(
        help="Seconds between scans (default: WORKER_INTERVAL_SECONDS).")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve the worker's Prometheus metrics on this port.")] = None,
) -> None:
    """Supervision worker: reminders, overdue notices to both sides, escalation; then the
    outbox: webhook deliveries (with retries) and SMS of committed events; then the last
    month's township ranking counts, kept once the month has ended (亮晒排名).

    Safe to run several at once on PostgreSQL (each step is taken once); one on SQLite.
    """
    import time

    from app.worker import run_once

    # The SMS gateway (a logging one for now) reports through the log.
    configure_logs(get_settings().logs_as)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1")
    pause = interval or get_settings().worker_interval_seconds
    _crypto_ready()
    while True:
        run_once(get_sessionmaker(), get_clock(), typer.echo, summaries=once)
        if once:
            return
        time.sleep(pause)


@crypto.command("keygen")
def crypto_keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the new key (hex, mode 0600).")],
) -> None:
    """Create a 256-bit key for PERSONAL_DATA_KEY_FILE or AUDIT_HMAC_KEY_FILE (one each)."""
    from app.core.crypto import write_key_file

    try:
        write_key_file(path)
    except FileExistsError as error:
        typer.echo(f"refused: {path} exists (a key is never overwritten)", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"key written to {path}: point PERSONAL_DATA_KEY_FILE or AUDIT_HMAC_KEY_FILE at "
               "it; keep a copy offline, never in the database or beside its backups")


@crypto.command("rekey")
def crypto_rekey(
    from_key_file: Annotated[list[Path] | None, typer.Option(
        "--from-key-file", help="A personal data key the data may still be encrypted with "
        "(repeatable).", exists=True, dir_okay=False)] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction.")] = 500,
) -> None:
    """Move the database to CRYPTO_PROFILE and PERSONAL_DATA_KEY_FILE: re-encrypt every phone
    number and OTP secret (idempotent, in batches), and from now on chain with the profile's
    digest (earlier links keep theirs). Stop the app and the worker first."""
    from app.core.crypto import KeyFileProblem, PersonalDataError, PersonalKey
    from app.services.crypto.rekey import rekey

    try:
        old = [PersonalKey.from_file(path) for path in from_key_file or []]
        report = rekey(get_sessionmaker(), get_settings(), old_keys=old, now=get_clock().now(),
                       batch=batch)
    except (KeyFileProblem, PersonalDataError) as problem:
        typer.echo(f"refused: {problem}", err=True)
        raise typer.Exit(1) from None
    for column, changed in report.changed.items():
        typer.echo(f"{column}: {changed} re-encrypted, {report.unchanged[column]} already so")
    if report.chains_to:
        typer.echo(f"chains: links so far stay {report.chains_from}, new ones "
                   f"{report.chains_to}; take a checkpoint now (`bihuan audit checkpoint`)")
    typer.echo(f"database is on CRYPTO_PROFILE={get_settings().crypto_profile}")


@ranking.command("forget")
def ranking_forget(
    since: Annotated[str | None, typer.Option(
        help="Only months from this one (YYYY-MM) on; default: every month.",
        show_default=False)] = None,
) -> None:
    """Drop the kept counts of ended months, so that they are counted again from the timeline
    when next asked for: after a repair of the timeline by hand, or a clock set back."""
    import re

    from app.services.board.kept_months import forget

    if since is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", since):
        typer.echo("refused: --since must be a month, YYYY-MM", err=True)
        raise typer.Exit(1)
    with get_sessionmaker()() as session, transaction(session) as tx:
        dropped = forget(tx, since=since)
    typer.echo(f"ranking: {dropped} kept township-months dropped")


@scale.command("generate")
def scale_generate(
    hazards: Annotated[int, typer.Option(min=1)] = 1_000_000,
    enterprises: Annotated[int, typer.Option(min=1)] = 20_000,
    townships: Annotated[int, typer.Option(min=1)] = 200,
    seed: int = 2026,
    year: Annotated[int | None, typer.Option(
        help="The year the hazards are reported in (default: this year, up to now).",
        show_default=False)] = None,
) -> None:
    """Fill an empty, migrated PostgreSQL database with a generated province-year.

    Regions, units, enterprises and users, then hazards in every state with their timelines
    (hash-chained as `audit verify` checks) and assignments; the same seed gives the same data.
    """
    from app.devtools.scale import ScaleRefused, generate

    now = get_clock().now()
    try:
        report = generate(get_settings().database_url, hazards=hazards,
                          enterprises=enterprises, townships=townships, seed=seed,
                          year=year or now.astimezone(get_settings().tz).year, now=now,
                          echo=typer.echo)
    except ScaleRefused as refused:
        typer.echo(f"refused: {refused}", err=True)
        raise typer.Exit(1) from None
    states = ", ".join(f"{state} {n}" for state, n in sorted(report.states.items()))
    typer.echo(f"generated {report.hazards} hazards ({states}), {report.events} events, "
               f"{report.assignments} assignments, {report.enterprises} enterprises, "
               f"{report.townships} townships, {report.users} users in {report.seconds:.0f} s")


def main() -> None:
    sys.exit(cli())
