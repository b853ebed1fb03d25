"""Onboarding import (初始化导入): an admin loads regions, units, enterprises and users.

Every row is checked before anything is written, and every problem is reported (by kind,
sheet, row and column), not only the first. A dry run stops there. A commit with any
problem is refused whole (422, the same list); otherwise everything is written in the
request's one transaction. Rows may refer to rows of the same file, in any order: a user of
an enterprise the file creates, an enterprise in a township the file creates.

Scope: an admin creates only inside its region subtree (regions under it; units, enterprises
and users belonging to regions, enterprises and units inside it).

Initial passwords are generated here (12 characters from a 55-character alphabet, about 69
bits) and returned once, in the commit's response; they are never stored in clear or taken
from the file. A password column would put every account's password into a spreadsheet
that is mailed around and kept, and admins filling hundreds of rows choose weak, shared ones.
"""

import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.actor import Actor
from app.access.roles import Scope, require_role, scope_of
from app.core.clock import Clock
from app.core.config import get_settings
from app.core.errors import Conflict, PayloadTooLarge, Unprocessable
from app.core.security import hash_password
from app.models import Enterprise, Region, Unit, User
from app.models.enums import RegionLevel
from app.services.accounts.users import create_user, user_facts
from app.services.audit.log import AuditAction, Who, record
from app.services.media.imaging.staged import StagedFile
from app.services.onboarding.check import ImportCheck, ImportReport
from app.services.onboarding.files import Upload, read_upload
from app.services.onboarding.spec import LEVEL_RANK, MESSAGES, ImportKind

# No 0/O, 1/l/I: initial passwords are read off a list and typed in by hand.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105
PASSWORD_LENGTH = 12


def check_may_import(actor: Actor) -> None:
    """403 unless the actor's role may use the onboarding import (and its templates)."""
    require_role(actor, "onboarding_import")


def import_upload(
    session: Session,
    *,
    actor: Actor,
    files: list[StagedFile],
    kind: ImportKind | None,
    dry_run: bool,
    clock: Clock,
) -> ImportReport:
    """Check the uploaded file (form part `file`); unless `dry_run`, write it all or nothing."""
    check_may_import(actor)
    uploads = [f for f in files if f.field_name == "file" and (f.filename or f.size)]
    if len(uploads) != 1:
        raise Unprocessable([{"loc": ["body", "file"], "msg": MESSAGES["no_file"],
                              "type": "missing"}])
    settings = get_settings()
    if uploads[0].size > settings.import_max_bytes:
        raise PayloadTooLarge(MESSAGES["too_large"].format(
            limit_mb=settings.import_max_bytes // (1024 * 1024)))
    upload = read_upload(uploads[0].path.read_bytes(), kind=kind,
                         max_rows=settings.import_max_rows)
    return run_import(session, actor=actor, upload=upload, dry_run=dry_run, clock=clock)


def run_import(
    session: Session, *, actor: Actor, upload: Upload, dry_run: bool, clock: Clock
) -> ImportReport:
    check_may_import(actor)
    users = sum(len(s.rows) for s in upload.sheets if s.spec.kind == ImportKind.users)
    limit = get_settings().import_max_users
    if users > limit:
        raise Unprocessable(MESSAGES["too_many_users"].format(limit=limit))
    check = ImportCheck(session, actor, upload)
    check.run()
    report = check.report(dry_run)
    if report.problems:
        if dry_run:
            return report
        raise Unprocessable(MESSAGES["rejected"].format(count=report.problem_count),
                            extra=report_body(report))
    if not dry_run:
        try:
            report.created, report.passwords = _write(check, clock)
        except IntegrityError:
            # Another request created the same code / name between the check and the write.
            raise Conflict(MESSAGES["conflict"]) from None
    return report


def report_body(report: ImportReport) -> dict[str, object]:
    """The report's fields for a JSON body (the 422 of a refused commit carries them)."""
    return {"ok": report.ok, "dry_run": report.dry_run,
            "problem_count": report.problem_count,
            "problems": [p.as_dict() for p in report.problems], "summary": report.summary}


def new_password() -> str:
    """An initial password: 12 characters drawn by `secrets` from 55, about 69 bits."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _write(check: ImportCheck, clock: Clock) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Create everything checked, parents before children; flushes, never commits."""
    regions = _write_regions(check)
    units = _write_units(check, regions)
    enterprises = [
        Enterprise(name=d.name, uscc=d.uscc, region_id=regions[d.township_code or ""].id,
                   industry=d.industry, address=d.address, lat=d.lat, lon=d.lon)
        for d in check.enterprises.values()
    ]
    check.session.add_all(enterprises)
    check.session.flush()
    enterprise_ids = {**check.scoped_enterprises, **{e.uscc: e.id for e in enterprises}}
    passwords = [new_password() for _ in check.users]
    # argon2 takes ~0.1-0.2 s a hash and releases the GIL: hash on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        hashes = list(pool.map(hash_password, passwords))
    created_users: list[User] = []
    for draft, password, password_hash in zip(check.users.values(), passwords, hashes,
                                              strict=True):
        assert draft.role is not None and draft.scope is not None
        if scope_of(draft.role) == Scope.enterprise:
            scope = {"enterprise_id": enterprise_ids[draft.scope]}
        elif scope_of(draft.role) == Scope.unit:
            scope = {"unit_id": units[draft.scope].id}
        else:
            scope = {"region_id": regions[draft.scope].id}
        user = create_user(check.session, username=draft.username, password=password,
                           password_hash=password_hash, role=draft.role, clock=clock,
                           display_name=draft.display_name, phone=draft.phone, **scope)
        # An initial password travels on a list: its user must replace it at first login.
        user.password_change_required = True
        created_users.append(user)
    _audit_import(check, clock, created_users)
    counts = {ImportKind.regions.value: len(check.regions),
              ImportKind.units.value: len(check.units),
              ImportKind.enterprises.value: len(check.enterprises),
              ImportKind.users.value: len(check.users)}
    return counts, [(draft.username, p) for draft, p in zip(check.users.values(), passwords,
                                                            strict=True)]


def _audit_import(check: ImportCheck, clock: Clock, users: list[User]) -> None:
    """The import in the security audit log, with the change it made: one entry for the
    organisation it created (the regions' codes, the units' names, the enterprises' USCCs)
    and one `user_create` per account, as the administration pages record theirs."""
    who, at = Who.of_actor(check.actor), clock.now()
    record(check.session, who=who, action=AuditAction.onboarding_import, at=at,
           object="onboarding_import",
           detail={"after": {"regions": sorted(check.regions), "units": sorted(check.units),
                             "enterprises": sorted(check.enterprises),
                             "users": sorted(u.username for u in users)}})
    for user in users:
        record(check.session, who=who, action=AuditAction.user_create, at=at,
               object=f"user:{user.id}", detail={"after": user_facts(user),
                                                 "by": "onboarding_import"})


def _write_regions(check: ImportCheck) -> dict[str, Region]:
    """The new regions, higher levels first; returns every region the file names, by code."""
    regions = dict(check.db_regions)
    drafts = sorted(check.regions.values(),
                    key=lambda d: (LEVEL_RANK[d.level or RegionLevel.township], d.row.number))
    for draft in drafts:
        parent = regions[draft.parent_code or ""]
        region = Region(code=draft.code, name=draft.name, level=draft.level, parent=parent,
                        path=f"{parent.path}{draft.code}/")
        check.session.add(region)
        regions[draft.code] = region
    check.session.flush()
    return regions


def _write_units(check: ImportCheck, regions: dict[str, Region]) -> dict[str, Unit]:
    """The new units; returns them with the existing ones users may name, by name."""
    units = {name: found[0] for name, found in check.scoped_units.items() if len(found) == 1}
    for draft in check.units.values():
        region = regions[draft.region_code or ""]
        supervised = [regions[c] for c in draft.supervised] or [region]
        unit = Unit(name=draft.name, kind=draft.kind, region_id=region.id,
                    industries=draft.industries, regions=supervised)
        check.session.add(unit)
        units[draft.name] = unit
    return units
