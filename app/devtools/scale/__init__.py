"""Scale generator (`bihuan scale generate`): a realistic province-year in PostgreSQL.

Everything is written with COPY in one transaction (nothing is left behind if it fails),
from a seeded random generator: the same flags and seed give the same database. Hazard ids
follow report order, so the list's newest-first keyset order is the order of reporting.

Not generated: photos (events carry no photo references, so `bihuan media gc` has nothing to
find missing), outbox messages (the history counts as delivered), 督办单 notices (see
`story.py`: hazards that went overdue carry `was_overdue`), extensions and inbox messages.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from app.core.config import get_settings
from app.devtools.scale import copy, org, story
from app.devtools.scale.story import EPOCH, HOUR, Story
from app.models.enums import HazardLevel, Role

BATCH = 20_000  # hazards per round of COPY statements

HAZARD_COLUMNS = (
    "id", "code", "state", "level", "title", "description", "location", "category",
    "major_clause", "criterion_id", "lat", "lon", "enterprise_id", "region_id",
    "reported_by_id", "reporter_role", "reported_at", "updated_at", "deadline", "plan",
    "spot_check_drawn", "deadline_provisional", "was_overdue", "listing", "version", "ended_at",
    "head_seq", "head_hash",
)
EVENT_COLUMNS = (
    "id", "hazard_id", "seq", "action", "from_state", "to_state", "actor_id", "actor_role",
    "actor_unit_id", "actor_enterprise_id", "at", "note", "data", "photos", "prev_hash", "hash",
)
ASSIGNMENT_COLUMNS = ("id", "hazard_id", "party_type", "party_id", "duty", "deadline",
                      "created_at")
# Tables whose id sequence must continue after the generated rows.
SEQUENCED = ("region", "industry", "unit", "enterprise", "user", "hazard", "event",
             "assignment")


class ScaleRefused(Exception):
    """The target database is not one the generator may fill."""


@dataclass
class ScaleReport:
    hazards: int
    events: int
    assignments: int
    enterprises: int
    townships: int
    users: int
    states: dict[str, int]
    seconds: float


def psycopg_url(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL; refuses anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ScaleRefused(
            f"the scale generator writes with PostgreSQL COPY; {parsed.get_backend_name()} "
            "is not supported (set DATABASE_URL to a postgresql:// database)")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _check_empty(cursor: psycopg.Cursor[Any]) -> None:
    cursor.execute("SELECT to_regclass('hazard') IS NOT NULL")
    row = cursor.fetchone()
    if not row or not row[0]:
        raise ScaleRefused("the database has no schema: run `bihuan migrate` first")
    cursor.execute("SELECT EXISTS (SELECT 1 FROM hazard)")
    row = cursor.fetchone()
    if row and row[0]:
        raise ScaleRefused("the database already holds hazards: generate into an empty one")
    for table in ("region", "enterprise", "unit", "user"):
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')  # noqa: S608 (fixed names)
        row = cursor.fetchone()
        if row and row[0]:
            raise ScaleRefused(f"the database already holds {table} rows: generated ids and "
                               "codes would collide with them; use an empty database")


def generate(url: str, *, hazards: int, enterprises: int, townships: int, seed: int,
             year: int, now: datetime, echo: Callable[[str], None] = print) -> ScaleReport:
    """Fill an empty, migrated PostgreSQL database with `hazards` hazards of `year`."""
    if hazards < 1 or enterprises < 1 or townships < 1:
        raise ScaleRefused("hazards, enterprises and townships must be at least 1")
    if enterprises < townships:
        raise ScaleRefused("every township needs an enterprise: enterprises >= townships")
    tz = get_settings().tz
    year_start = datetime(year, 1, 1, tzinfo=tz)
    year_end = datetime(year + 1, 1, 1, tzinfo=tz)
    if year_start >= now:
        raise ScaleRefused(f"{year} has not begun: pick a year up to {now.astimezone(tz).year}")
    asof = _micros(min(now, year_end - timedelta(microseconds=1)))
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor() as cursor:
        _check_empty(cursor)
        organisation = org.build(cursor, rng, enterprises=enterprises, townships=townships,
                                 now=now)
        echo(f"organisation: {len(organisation.townships)} townships in "
             f"{len(organisation.counties)} counties, {enterprises} enterprises, "
             f"{organisation.user_count} users ({time.monotonic() - started:.1f} s)")
        report = _hazards(cursor, rng, organisation, count=hazards, year=year,
                          start=_micros(year_start), asof=asof, tz=tz, echo=echo,
                          started=started)
        for table in SEQUENCED:  # ids were given explicitly: move each sequence past them
            sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
            cursor.execute(f'SELECT setval({sequence}, (SELECT max(id) FROM "{table}"))')  # noqa: S608 (fixed names)
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        # VACUUM, not only ANALYZE: COPY leaves the visibility map empty, and until a vacuum
        # sets it every index-only scan (the board's and the list's keyset indexes) still
        # reads the table's pages, as no database that autovacuum keeps would.
        echo("vacuuming and analyzing ...")
        conn.execute("VACUUM (ANALYZE)")
    report.users = organisation.user_count
    report.enterprises = enterprises
    report.townships = townships
    report.seconds = time.monotonic() - started
    return report


def _micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def _hazards(cursor: psycopg.Cursor[Any], rng: random.Random, organisation: org.Organisation,
             *, count: int, year: int, start: int, asof: int, tz: Any,
             echo: Callable[[str], None], started: float) -> ScaleReport:
    firms = organisation.firms
    # Some enterprises report far more than others (a long tail, as in real ledgers).
    cumulative, total = [], 0.0
    for _ in firms:
        total += rng.paretovariate(1.5)
        cumulative.append(total)
    reported = sorted(rng.randrange(start, asof - HOUR) for _ in range(count))
    maker = _HazardMaker(rng, year, asof, tz, Decimal(str(get_settings().default_spot_check_rate)))
    with copy.BackgroundCopy(cursor) as writer:
        for first in range(0, count, BATCH):
            chosen = rng.choices(firms, cum_weights=cumulative, k=min(BATCH, count - first))
            lines = _Lines()
            for offset, firm in enumerate(chosen):
                maker.make(first + offset + 1, firm, reported[first + offset], lines)
            writer.put("hazard", HAZARD_COLUMNS, lines.hazards)
            writer.put("event", EVENT_COLUMNS, lines.events)
            writer.put("assignment", ASSIGNMENT_COLUMNS, lines.assignments)
            done = first + len(chosen)
            if done % 100_000 == 0 or done == count:
                echo(f"{done} hazards, {maker.event_id - 1} events "
                     f"({time.monotonic() - started:.0f} s)")
    copy.copy_rows(cursor, "hazard_counter", ("county_code", "year", "last"),
                   sorted((code, year, last) for code, last in maker.counters.items()))
    return ScaleReport(count, maker.event_id - 1, maker.assignment_id - 1, 0, 0, 0,
                       maker.states, 0.0)


@dataclass
class _Lines:
    """One batch of COPY lines."""

    hazards: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)


@dataclass
class _HazardMaker:
    """Plays one hazard's story after another, numbering codes, events and assignments."""

    rng: random.Random
    year: int
    asof: int
    tz: Any
    spot_rate: Decimal
    event_id: int = 1
    assignment_id: int = 1
    counters: dict[str, int] = field(default_factory=dict)  # county -> last code number
    states: dict[str, int] = field(default_factory=dict)

    def make(self, hazard_id: int, firm: org.Firm, reported_at: int, lines: _Lines) -> None:
        rng = self.rng
        seq = self.counters[firm.county_code] = self.counters.get(firm.county_code, 0) + 1
        code = f"YH-{firm.county_code}-{self.year}-{seq:05d}"  # as hazards._next_code
        level = HazardLevel.major if rng.random() < story.P_MAJOR else HazardLevel.general
        s = Story(hazard_id, code, level, self.asof, self.event_id, self.tz)
        category, title, location = rng.choice(story.HAZARDS)
        description = f"{location}检查发现：{title}，存在安全风险，需及时整改。"
        major_clause = rng.choice(story.MAJOR_CLAUSES) if level == HazardLevel.major else None
        reporter = _reporter(rng, firm)
        story.play(rng, s, firm, reported_at, title, location, description, major_clause,
                   reporter, self.spot_rate)
        self.event_id = s.next_event_id
        self.states[s.state] = self.states.get(s.state, 0) + 1
        lines.hazards.append(_hazard_line(s, title, description, location, category,
                                          major_clause, firm, reporter, reported_at))
        lines.events.extend(_event_line(e) for e in s.events)
        if s.assigned_at is None:
            return
        for party_type, party_id, duty in s.parties:
            lines.assignments.append(
                f"{self.assignment_id}\t{hazard_id}\t{party_type}\t{party_id}\t{duty}\t"
                f"{_date(s.deadline)}\t{_iso(s.assigned_at)}\n")
            self.assignment_id += 1


def _reporter(rng: random.Random, firm: org.Firm) -> story.Actor:
    """Who found it: mostly the enterprise itself (企业自查), else inspectors or the county."""
    draw = rng.random()
    if draw < 0.65:
        return (firm.user_id, Role.enterprise, None, firm.id)
    if draw < 0.85:
        return (firm.office_user_id, Role.inspector, firm.office_unit_id, None)
    if draw < 0.95:
        return (firm.department_user_id, Role.inspector, firm.department_unit_id, None)
    return (firm.committee_user_id, Role.committee, None, None)


def _iso(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=micros)).isoformat()


def _date(day: date | None) -> str:
    return copy.NULL if day is None else day.isoformat()


def _opt(value: Any) -> str:
    return copy.NULL if value is None else str(value)


def _hazard_line(s: Story, title: str, description: str, location: str, category: str,
                 major_clause: str | None, firm: org.Firm, reporter: story.Actor,
                 reported_at: int) -> str:
    return copy.line((
        s.hazard_id, s.code, s.state, s.level, title, description, location, category,
        major_clause, None, None, None, firm.id, firm.township_id, reporter[0], reporter[1],
        _iso(reported_at), _iso(s.updated_at), s.deadline, s.plan, s.spot_check_drawn, False,
        s.was_overdue(), s.listing, s.version, s.ended_at(), s.events[-1].seq,
        s.events[-1].hash))


def _event_line(e: story.EventRow) -> str:
    return (f"{e.id}\t{e.hazard_id}\t{e.seq}\t{e.action}\t{_opt(e.from_state)}\t{e.to_state}\t"
            f"{e.actor_id}\t{e.actor_role}\t{_opt(e.actor_unit_id)}\t"
            f"{_opt(e.actor_enterprise_id)}\t{e.at.isoformat()}\t"
            f"{copy.NULL if e.note is None else copy.text(e.note)}\t{copy.json_field(e.data)}\t"
            f"[]\t{e.prev_hash}\t{e.hash}\n")
