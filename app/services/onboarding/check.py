"""The onboarding import's checks: every row on its own, then what rows refer to.

`ImportCheck` reads the upload's rows into drafts, looks up what they refer to in the
database in a few batched queries, and collects every problem; `app.services.onboarding`
writes the drafts when there is none.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.access.actor import Actor
from app.access.roles import Scope, scope_of
from app.models import Enterprise, Industry, Region, Unit, User
from app.models.enums import RegionLevel, Role, UnitKind
from app.services.accounts.users import normalise_username
from app.services.onboarding.files import Row, Sheet, Upload
from app.services.onboarding.spec import (
    LEVEL_DIGITS,
    LEVEL_LABELS,
    LEVEL_RANK,
    LEVEL_WORDS,
    LIST_SEPARATORS,
    MESSAGES,
    ROLE_LABELS,
    ROLE_SCOPE_COLUMN,
    ROLE_WORDS,
    UNIT_KIND_WORDS,
    ImportKind,
    Problem,
)
from app.services.org.uscc import uscc_problem

REGION_CODE = re.compile(r"\d{12}")
USERNAME = re.compile(r"[A-Za-z0-9_.@-]{3,64}")
PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
# China's extent: a pair outside it is usually latitude and longitude swapped.
LAT_RANGE, LON_RANGE = (3.5, 53.6), (73.5, 135.1)
MAX_REPORTED_PROBLEMS = 1000  # listed in a response; all are counted
IN_CHUNK = 500  # values per IN (...) list


@dataclass
class RegionDraft:
    sheet: Sheet
    row: Row
    code: str
    level: RegionLevel | None
    parent_code: str | None
    name: str = ""


@dataclass
class UnitDraft:
    name: str
    kind: UnitKind | None
    region_code: str | None
    industries: list[Industry]
    supervised: list[str]


@dataclass
class EnterpriseDraft:
    name: str
    uscc: str
    township_code: str | None
    industry: Industry | None
    address: str
    lat: float | None
    lon: float | None


@dataclass
class UserDraft:
    username: str
    display_name: str
    role: Role | None
    scope: str | None  # the enterprise's USCC, the unit's name or the region's code
    phone: str | None


@dataclass
class Known:
    """A region an import row refers to: in the database (`region`) or in the file."""

    code: str
    level: RegionLevel | None
    path: str | None  # None: a file region whose own row has a problem
    region: Region | None = None


@dataclass
class ImportReport:
    dry_run: bool
    problems: list[Problem]
    problem_count: int
    summary: dict[str, dict[str, int]]
    created: dict[str, int] | None = None
    passwords: list[tuple[str, str]] = field(default_factory=list)  # (username, password)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def _code(text: str) -> str:
    """Codes as typed into spreadsheets: full-width digits and letters, stray spaces."""
    return unicodedata.normalize("NFKC", text).replace(" ", "").upper()


def _has_control(value: str) -> bool:
    return any(ch < " " or ch == "\x7f" for ch in value)


def _split(text: str) -> list[str]:
    for separator in LIST_SEPARATORS[1:]:
        text = text.replace(separator, LIST_SEPARATORS[0])
    return [part.strip() for part in text.split(LIST_SEPARATORS[0]) if part.strip()]


class ImportCheck:
    """One import's validation: reads the file's rows, looks up what they refer to in the
    database in a few batched queries, collects every problem, and keeps the drafts to write."""

    def __init__(self, session: Session, actor: Actor, upload: Upload) -> None:
        self.session, self.actor, self.upload = session, actor, upload
        self.problems: list[Problem] = list(upload.problems)
        self.regions: dict[str, RegionDraft] = {}
        self.units: dict[str, UnitDraft] = {}
        self.enterprises: dict[str, EnterpriseDraft] = {}
        self.users: dict[str, UserDraft] = {}
        self.first_rows: dict[tuple[ImportKind, str], int] = {}
        self.region_refs: set[str] = set()
        self.industries = list(session.scalars(select(Industry).order_by(Industry.code)))

    # --- reporting and cells ------------------------------------------------------------------

    def rows(self, kind: ImportKind) -> Iterator[tuple[Sheet, Row]]:
        for sheet in self.upload.sheets:
            if sheet.spec.kind == kind:
                for row in sheet.rows:
                    yield sheet, row

    def report_problem(self, sheet: Sheet, row: Row, key: str, code: str, message: str) -> None:
        self.problems.append(sheet.problem(code, message, row=row.number, key=key,
                                           value=row.cells.get(key)))

    def cell(self, sheet: Sheet, row: Row, key: str, *, required: bool = False,
             code: bool = False) -> str | None:
        """The cell's text, or None when empty or already reported (a formula, say)."""
        if key in row.formulas:
            return None
        value = row.cells.get(key, "")
        if code:
            value = _code(value)
        if not value:
            # A missing required column is reported once, on the header, not on every row.
            if required and key in sheet.positions:
                self.report_problem(sheet, row, key, "required", MESSAGES["required"])
            return None
        limit = sheet.spec.column(key).max_length
        if len(value) > limit:
            self.report_problem(sheet, row, key, "too_long",
                                MESSAGES["too_long"].format(limit=limit))
            return None
        if _has_control(value):
            self.report_problem(sheet, row, key, "control", MESSAGES["control"])
            return None
        return value

    def region_code(self, sheet: Sheet, row: Row, key: str, value: str | None) -> str | None:
        if value is not None and not REGION_CODE.fullmatch(value):
            self.report_problem(sheet, row, key, "region_code_format",
                                MESSAGES["region_code_format"])
            return None
        if value is not None:
            self.region_refs.add(value)
        return value

    def first(self, kind: ImportKind, sheet: Sheet, row: Row, key: str, value: str) -> bool:
        """True for the first row with this key in the file; later ones are reported."""
        number = self.first_rows.setdefault((kind, value.lower()), row.number)
        if number != row.number:
            self.report_problem(sheet, row, key, "duplicate_in_file",
                                MESSAGES["duplicate_in_file"].format(row=number))
            return False
        return True

    def is_first(self, kind: ImportKind, value: str, row: Row) -> bool:
        """Is this the row the draft was made from (later duplicates are reported already)?"""
        return self.first_rows.get((kind, value.lower())) == row.number

    def industry(self, text: str) -> Industry | None:
        return next((i for i in self.industries
                     if i.code.lower() == text.lower() or i.name == text), None)

    def unknown_industry(self, name: str) -> str:
        known = "、".join(i.name for i in self.industries[:20]) or "无"
        return MESSAGES["industry_unknown"].format(name=name, known=known)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        self.read_regions()
        self.read_units()
        self.read_enterprises()
        self.read_users()
        self.load_database()
        self.check_regions()
        self.check_units()
        self.check_enterprises()
        self.check_users()
        if not any(sheet.rows for sheet in self.upload.sheets) and not self.problems:
            self.problems.append(Problem(code="empty", message=MESSAGES["empty"]))

    def report(self, dry_run: bool) -> ImportReport:
        order = {kind.value: i for i, kind in enumerate(ImportKind)}

        def position(p: Problem) -> tuple[int, int, int]:
            sheet = next((s for s in self.upload.sheets if s.spec.kind.value == p.kind), None)
            column = sheet.positions.get(p.column, -1) if sheet and p.column else -1
            return order.get(p.kind or "", -1), p.row or 0, column

        problems = sorted(self.problems, key=position)
        summary = {kind.value: {"rows": 0, "rows_with_problems": 0} for kind in ImportKind}
        for sheet in self.upload.sheets:
            summary[sheet.spec.kind.value]["rows"] += len(sheet.rows)
        bad_rows = {(p.kind, p.row) for p in problems if p.kind and p.row and p.row > 1}
        for kind, _ in bad_rows:
            summary[kind]["rows_with_problems"] += 1
        return ImportReport(dry_run=dry_run, problems=problems[:MAX_REPORTED_PROBLEMS],
                            problem_count=len(problems), summary=summary)

    # --- first pass: each row on its own --------------------------------------------------

    def read_regions(self) -> None:
        for sheet, row in self.rows(ImportKind.regions):
            code = self.region_code(sheet, row, "code",
                                    self.cell(sheet, row, "code", required=True, code=True))
            name = self.cell(sheet, row, "name", required=True)
            level_text = self.cell(sheet, row, "level", required=True)
            level = LEVEL_WORDS.get(level_text.lower()) if level_text else None
            if level_text and level is None:
                self.report_problem(sheet, row, "level", "level", MESSAGES["level"])
            parent = self.region_code(sheet, row, "parent_code", self.cell(
                sheet, row, "parent_code", required=True, code=True))
            if code and self.first(ImportKind.regions, sheet, row, "code", code):
                self.regions[code] = RegionDraft(sheet, row, code, level, parent, name or "")

    def read_units(self) -> None:
        for sheet, row in self.rows(ImportKind.units):
            name = self.cell(sheet, row, "name", required=True)
            kind_text = self.cell(sheet, row, "kind", required=True)
            kind = UNIT_KIND_WORDS.get(kind_text.lower()) if kind_text else None
            if kind_text and kind is None:
                self.report_problem(sheet, row, "kind", "unit_kind", MESSAGES["unit_kind"])
            region = self.region_code(sheet, row, "region_code", self.cell(
                sheet, row, "region_code", required=True, code=True))
            industries = []
            for text in _split(self.cell(sheet, row, "industries") or ""):
                industry = self.industry(text)
                if industry is None:
                    self.report_problem(sheet, row, "industries", "industry_unknown",
                                        self.unknown_industry(text))
                elif industry not in industries:
                    industries.append(industry)
            supervised = []
            for code in _split(self.cell(sheet, row, "supervised_regions", code=True) or ""):
                if self.region_code(sheet, row, "supervised_regions", code):
                    supervised.append(code)
            if name and self.first(ImportKind.units, sheet, row, "name", name):
                self.units[name] = UnitDraft(name, kind, region, industries, supervised)

    def read_enterprises(self) -> None:
        for sheet, row in self.rows(ImportKind.enterprises):
            name = self.cell(sheet, row, "name", required=True)
            uscc = self.cell(sheet, row, "uscc", required=True, code=True)
            reason = uscc_problem(uscc) if uscc else None
            if reason:
                self.report_problem(sheet, row, "uscc", "uscc_invalid",
                                    MESSAGES["uscc_invalid"].format(reason=reason))
            township = self.region_code(sheet, row, "township_code", self.cell(
                sheet, row, "township_code", required=True, code=True))
            industry_text = self.cell(sheet, row, "industry", required=True)
            industry = self.industry(industry_text) if industry_text else None
            if industry_text and industry is None:
                self.report_problem(sheet, row, "industry", "industry_unknown",
                                    self.unknown_industry(industry_text))
            address = self.cell(sheet, row, "address") or ""
            lat, lon = self.coordinates(sheet, row)
            if uscc and not reason and self.first(ImportKind.enterprises, sheet, row, "uscc",
                                                  uscc):
                self.enterprises[uscc] = EnterpriseDraft(name or "", uscc, township, industry,
                                                         address, lat, lon)

    def coordinates(self, sheet: Sheet, row: Row) -> tuple[float | None, float | None]:
        values: dict[str, float] = {}
        for key in ("lat", "lon"):
            text = self.cell(sheet, row, key, code=True)
            if text is None:
                continue
            try:
                values[key] = float(text)
            except ValueError:
                self.report_problem(sheet, row, key, "coordinate", MESSAGES["coordinate"])
        lat, lon = values.get("lat"), values.get("lon")
        if (lat is None) != (lon is None):
            missing = "lat" if lat is None else "lon"
            if not (row.cells.get(missing) or missing in row.formulas):
                self.report_problem(sheet, row, missing, "coordinates_pair",
                                    MESSAGES["coordinates_pair"])
            return None, None
        if lat is not None and lon is not None and not (
            LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]
        ):
            self.report_problem(sheet, row, "lat", "coordinates_range",
                                MESSAGES["coordinates_range"])
            return None, None
        return lat, lon

    def read_users(self) -> None:
        for sheet, row in self.rows(ImportKind.users):
            username = self.cell(sheet, row, "username", required=True)
            if username and not USERNAME.fullmatch(username):
                self.report_problem(sheet, row, "username", "username_format",
                                    MESSAGES["username_format"])
                username = None
            display_name = self.cell(sheet, row, "display_name", required=True)
            role_text = self.cell(sheet, row, "role", required=True)
            role = ROLE_WORDS.get(role_text.lower()) if role_text else None
            if role_text and role is None:
                self.report_problem(sheet, row, "role", "role", MESSAGES["role"])
            scope = self.user_scope(sheet, row, role)
            phone = self.cell(sheet, row, "phone", code=True)
            if phone and not PHONE.fullmatch(phone):
                self.report_problem(sheet, row, "phone", "phone", MESSAGES["phone"])
            if username and self.first(ImportKind.users, sheet, row, "username", username):
                name = normalise_username(username)  # stored so: `Admin` is `admin`
                self.users[name] = UserDraft(name, display_name or "", role, scope, phone)

    def user_scope(self, sheet: Sheet, row: Row, role: Role | None) -> str | None:
        """The one scope cell the role needs (the others must be empty)."""
        if role is None:
            return None
        wanted, label, scope = ROLE_SCOPE_COLUMN[role], ROLE_LABELS[role], None
        for key in ("enterprise_uscc", "unit_name", "region_code"):
            value = self.cell(sheet, row, key, code=key != "unit_name")
            if key == wanted:
                if value is None and key not in row.formulas and not row.cells.get(key):
                    self.report_problem(sheet, row, key, "scope_required",
                                        MESSAGES["scope_required"].format(role=label))
                scope = value
            elif value is not None:
                self.report_problem(sheet, row, key, "scope_extra",
                                    MESSAGES["scope_extra"].format(role=label))
        if wanted == "region_code":
            scope = self.region_code(sheet, row, wanted, scope)
        return scope

    # --- the database: a few batched look-ups -------------------------------------------------

    def load_database(self) -> None:
        scope = self.actor.region_path or "\x00"  # no region: nothing is in scope
        self.db_regions = {r.code: r for r in _in_chunks(
            self.session, select(Region), Region.code, self.region_refs)}
        self.existing_usccs = set(_in_chunks(
            self.session, select(Enterprise.uscc), Enterprise.uscc, set(self.enterprises)))
        referenced = {u.scope for u in self.users.values() if scope_of(u.role) == Scope.enterprise}
        self.scoped_enterprises: dict[str, int] = {e.uscc: e.id for e in _in_chunks(
            self.session,
            select(Enterprise).join(Region, Region.id == Enterprise.region_id)
            .where(Region.path.startswith(scope, autoescape=True)),
            Enterprise.uscc, {s for s in referenced if s})}
        names = set(self.units) | {u.scope for u in self.users.values()
                                   if scope_of(u.role) == Scope.unit and u.scope}
        self.scoped_units: dict[str, list[Unit]] = {}
        for unit in _in_chunks(
            self.session,
            select(Unit).join(Region, Region.id == Unit.region_id)
            .where(Region.path.startswith(scope, autoescape=True)),
            Unit.name, names,
        ):
            self.scoped_units.setdefault(unit.name, []).append(unit)
        self.existing_usernames = set(_in_chunks(
            self.session, select(func.lower(User.username)), func.lower(User.username),
            {u.username for u in self.users.values()}))

    # --- second pass: what rows refer to ------------------------------------------------------

    def known_region(self, code: str, depth: int = 0) -> Known | None:
        region = self.db_regions.get(code)
        if region is not None:
            return Known(code, RegionLevel(region.level), region.path, region)
        draft = self.regions.get(code)
        if draft is None:
            return None
        path = None
        # Levels strictly descend along a valid chain: no chain is longer than the levels.
        if depth < len(LEVEL_RANK) and self.placement(draft, depth) is None:
            parent = self.known_region(draft.parent_code or "", depth + 1)
            path = f"{parent.path}{code}/" if parent and parent.path else None
        return Known(code, draft.level, path)

    def placement(self, draft: RegionDraft, depth: int = 0) -> tuple[str, str] | None:
        """None when the draft region can go under its parent; else (problem code, message),
        the message empty when the problem is reported on another row (or another column)."""
        if draft.level is None or draft.parent_code is None:
            return "", ""
        parent = self.known_region(draft.parent_code, depth + 1)
        if parent is None:
            return "region_unknown", MESSAGES["region_unknown"].format(code=draft.parent_code)
        # Level and code before the parent's own placement: a cycle of rows breaks a level.
        if parent.level is not None and LEVEL_RANK[parent.level] >= LEVEL_RANK[draft.level]:
            return "parent_level", MESSAGES["parent_level"].format(
                code=parent.code, parent=LEVEL_LABELS[parent.level],
                level=LEVEL_LABELS[draft.level])
        digits = LEVEL_DIGITS[parent.level] if parent.level is not None else 0
        if draft.code[:digits] != parent.code[:digits]:
            return "code_prefix", MESSAGES["code_prefix"].format(
                digits=digits, prefix=parent.code[:digits])
        if parent.path is None:
            return "", ""  # the parent's own row is reported
        if not self.in_scope(parent):
            return "region_out_of_scope", MESSAGES["region_out_of_scope"].format(
                code=draft.parent_code)
        return None

    def in_scope(self, known: Known) -> bool:
        scope = self.actor.region_path
        return bool(scope and known.path and known.path.startswith(scope))

    def region_ref(self, sheet: Sheet, row: Row, key: str, code: str | None, *,
                   township: bool = False) -> None:
        """Report a referenced region that is unknown, out of scope or of the wrong level."""
        if code is None:
            return
        known = self.known_region(code)
        if known is None:
            self.report_problem(sheet, row, key, "region_unknown",
                                MESSAGES["region_unknown"].format(code=code))
        elif known.region is None and known.path is None:
            return  # a file region whose own row is reported
        elif not self.in_scope(known):
            self.report_problem(sheet, row, key, "region_out_of_scope",
                                MESSAGES["region_out_of_scope"].format(code=code))
        elif township and known.level != RegionLevel.township:
            self.report_problem(sheet, row, key, "township_required",
                                MESSAGES["township_required"].format(code=code))

    def check_regions(self) -> None:
        for code, draft in self.regions.items():
            if code in self.db_regions:
                self.report_problem(draft.sheet, draft.row, "code", "region_exists",
                                    MESSAGES["region_exists"].format(code=code))
                continue
            placement = self.placement(draft)
            if placement is not None and placement[1]:
                self.report_problem(draft.sheet, draft.row, "parent_code", *placement)

    def check_units(self) -> None:
        for sheet, row in self.rows(ImportKind.units):
            draft = self.units.get(row.cells.get("name", ""))
            if draft is None or not self.is_first(ImportKind.units, draft.name, row):
                continue
            if draft.name in self.scoped_units:
                self.report_problem(sheet, row, "name", "unit_exists",
                                    MESSAGES["unit_exists"].format(name=draft.name))
            township = draft.kind == UnitKind.township
            self.region_ref(sheet, row, "region_code", draft.region_code, township=township)
            if township:
                for key in ("industries", "supervised_regions"):
                    if row.cells.get(key):
                        self.report_problem(sheet, row, key, "township_unit_extra",
                                            MESSAGES["township_unit_extra"])
            elif draft.kind == UnitKind.department:
                if not row.cells.get("industries") and "industries" not in row.formulas:
                    self.report_problem(sheet, row, "industries", "industries_required",
                                        MESSAGES["industries_required"])
                for code in draft.supervised:
                    self.region_ref(sheet, row, "supervised_regions", code)

    def check_enterprises(self) -> None:
        for sheet, row in self.rows(ImportKind.enterprises):
            draft = self.enterprises.get(_code(row.cells.get("uscc", "")))
            if draft is None or not self.is_first(ImportKind.enterprises, draft.uscc, row):
                continue
            if draft.uscc in self.existing_usccs:
                self.report_problem(sheet, row, "uscc", "uscc_exists",
                                    MESSAGES["uscc_exists"].format(code=draft.uscc))
            self.region_ref(sheet, row, "township_code", draft.township_code, township=True)

    def check_users(self) -> None:
        for sheet, row in self.rows(ImportKind.users):
            draft = self.users.get(normalise_username(row.cells.get("username", "")))
            if draft is None or not self.is_first(ImportKind.users, draft.username, row):
                continue
            if draft.username in self.existing_usernames:
                self.report_problem(sheet, row, "username", "username_exists",
                                    MESSAGES["username_exists"].format(name=draft.username))
            if draft.scope is None:
                continue
            scope = scope_of(draft.role)
            if scope == Scope.enterprise and draft.scope not in self.enterprises \
                    and draft.scope not in self.scoped_enterprises:
                self.report_problem(sheet, row, "enterprise_uscc", "enterprise_unknown",
                                    MESSAGES["enterprise_unknown"].format(code=draft.scope))
            elif scope == Scope.unit and draft.scope not in self.units:
                found = len(self.scoped_units.get(draft.scope, []))
                if found != 1:
                    problem = "unit_ambiguous" if found else "unit_unknown"
                    self.report_problem(sheet, row, "unit_name", problem,
                                        MESSAGES[problem].format(name=draft.scope))
            elif scope == Scope.region:
                self.region_ref(sheet, row, "region_code", draft.scope)


def _in_chunks(
    session: Session, query: Select[Any],
    column: InstrumentedAttribute[str] | ColumnElement[str], values: set[str],
) -> list[Any]:
    """Rows of `query` whose `column` is one of `values`, a bounded IN list at a time."""
    ordered = sorted(values)
    found = []
    for start in range(0, len(ordered), IN_CHUNK):
        found.extend(session.scalars(query.where(column.in_(ordered[start:start + IN_CHUNK]))))
    return found

