"""Hazards, their assignments, their append-only timeline and their evidence photos."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime
from app.models.enums import Duty, HazardLevel, PartyType, Role
from app.workflow.states import ENDED_STATES, ENDING_ACTIONS, RECTIFICATION_OPEN, HazardState

# The partial index's WHERE clause: the states in which the enterprise owes the rectification.
_RECTIFICATION_OPEN_SQL = f"state IN ({', '.join(repr(str(s)) for s in RECTIFICATION_OPEN)})"
_ENDING_SQL = f"action IN ({', '.join(repr(a) for a in ENDING_ACTIONS)})"


# The prev_hash of a chain's first event (services/hazards/timeline.GENESIS).
GENESIS_HASH = "0" * 64


def _partial(condition: str) -> dict[str, object]:
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Hazard(Base):
    __tablename__ = "hazard"
    # Index layout for the list's keyset pages (newest first, `id < cursor`): each filter the
    # list offers leads an index that ends in id, so a page is one short index range scan
    # however deep it is (bench/bench_scale.py). See migration 0011.
    __table_args__ = (
        Index("ix_hazard_state_deadline", "state", "deadline"),
        Index("ix_hazard_state_keyset", "state", "id"),
        Index("ix_hazard_region_keyset", "region_id", "id"),
        Index("ix_hazard_region_state_keyset", "region_id", "state", "id"),
        # An enterprise user's list (migration 0017).
        Index("ix_hazard_enterprise_keyset", "enterprise_id", "id"),
        Index("ix_hazard_enterprise_state_keyset", "enterprise_id", "state", "id"),
        # Open hazards only: the overdue filter and the supervision worker's scan.
        Index("ix_hazard_rectification_open", "deadline", "id",
              **_partial(_RECTIFICATION_OPEN_SQL)),
        # 挂牌督办: a few hundred rows among millions.
        Index("ix_hazard_listed", "id", **_partial("listing IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # YH-<county>-<year>-<seq>
    state: Mapped[HazardState] = mapped_column(String(20))
    level: Mapped[HazardLevel] = mapped_column(String(10), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    major_clause: Mapped[str | None] = mapped_column(String(500))
    # The catalogue entry the hazard matches (重大事故隐患判定标准), when it is in the catalogue.
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id"), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))  # township
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    reporter_role: Mapped[Role] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the hazard ended (销号 or 不予受理): the time of its close or reject event, set with
    # the state by the one function that changes it (services/actions.perform_action), which
    # appends that event at the same instant in the same transaction. It cannot drift from the
    # timeline: events are append-only, and closed and rejected are final states, so a hazard
    # has at most one such event and this is never set again. The board counts a period's
    # write-offs from the hazard row alone (migration 0015 filled existing rows).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The current rectification deadline (the rectify assignment's); null until assigned.
    deadline: Mapped[date | None] = mapped_column(Date)
    # The five-determination plan (五定) filed when a major hazard is accepted.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # Outcome of the latest spot-check draw; null while no draw has been made.
    spot_check_drawn: Mapped[bool | None]
    # Counted in working days past the known holiday calendar: to recompute (deadlines.py).
    deadline_provisional: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Once overdue, always on record: an extension moves the deadline, never this.
    was_overdue: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 挂牌督办: {"level", "authority", "document_number", "listed_on"} while listed.
    listing: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # Where the hazard came from: "report" (an account's report) or "public" (a converted
    # tip, tip_id naming it; services/tips/triage.py).
    source: Mapped[str] = mapped_column(String(16), default="report", server_default="report")
    # Not a foreign key: tip.hazard_id points the other way (a cycle SQLite cannot alter in).
    tip_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The head of the hazard's timeline chain: its last event's seq and hash, written by
    # services/hazards/timeline.append_event with that event, in the same transaction (without
    # bumping `version`). `bihuan audit verify` checks it against the chain, so deleting the
    # newest events is seen; signed checkpoints (models/integrity.py) hold it outside reach.
    head_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH,
                                           server_default=GENESIS_HASH)

    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="hazard", order_by="Assignment.id"
    )
    photos: Mapped[list["Photo"]] = relationship(back_populates="hazard", order_by="Photo.id")

    # Optimistic concurrency: every UPDATE checks the version it read (second line of defence
    # behind the row lock taken on PostgreSQL).
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @hybrid_property
    def under_listing(self) -> bool:
        """挂牌督办 now: listed and not ended. A hazard cannot end while listed (摘牌 first,
        app/workflow/machine.py: delisted_first); a row that did before that rule is not
        counted as listed (the board's figure, the list's `listed` filter)."""
        return self.listing is not None and self.state not in ENDED_STATES

    @under_listing.inplace.expression
    @classmethod
    def _under_listing_expression(cls) -> ColumnElement[bool]:
        return cls.listing.is_not(None) & cls.state.not_in(ENDED_STATES)


class HazardCounter(Base):
    """The last sequence number issued for hazard codes per county and year."""

    __tablename__ = "hazard_counter"

    county_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Assignment(Base):
    """One side of 双重交办: the enterprise rectifies, each supervising unit supervises."""

    __tablename__ = "assignment"
    __table_args__ = (
        # Also serves lookups by hazard (its leading column).
        UniqueConstraint("hazard_id", "party_type", "party_id", "duty"),
        # The unit filter and inspector scoping read the hazard ids from the index alone.
        Index("ix_assignment_party_hazard", "party_type", "party_id", "hazard_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"))
    party_type: Mapped[PartyType] = mapped_column(String(16))
    party_id: Mapped[int]
    duty: Mapped[Duty] = mapped_column(String(16))
    deadline: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    hazard: Mapped[Hazard] = relationship(back_populates="assignments")


class Event(Base):
    """One entry of a hazard's timeline. Append-only and hash-chained per hazard."""

    __tablename__ = "event"
    __table_args__ = (
        # Also serves lookups by hazard (its leading column).
        UniqueConstraint("hazard_id", "seq"),
        # When a hazard ended (销号 or 不予受理, at most one each): the ledger's write-off time
        # and the board's period filters, read from the index alone.
        Index("ix_event_ending", "hazard_id", "at", **_partial(_ENDING_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"))
    seq: Mapped[int]  # 1, 2, ... per hazard; the unique pair forbids a forked chain
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_unit_id: Mapped[int | None]
    actor_enterprise_id: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"id": photo id, "sha256": hex}] so the chain covers the evidence bytes too.
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def photo_ids(self) -> list[int]:
        return [p["id"] for p in self.photos]


# The committee's board counts one level's hazards of a region from this index alone
# (PostgreSQL; migrations 0010, 0015): the rows it needs are scattered over the whole table.
Index("ix_hazard_level_region", Hazard.level, Hazard.region_id,
      postgresql_include=["state", "deadline", "reported_at", "ended_at", "enterprise_id",
                          "listing"])
# The events of one kind in a period (submissions and spot-checks of a month for the ranking,
# write-offs of a period for the board), without reading the whole timeline table; `seq`
# too, so a month's submissions find the deadline then in force from this index alone.
Index("ix_event_action_at", Event.action, Event.at, postgresql_include=["hazard_id", "seq"])
# The ranking's base: a region's hazards (open ones by state) with what it reads of them,
# from this index alone (PostgreSQL; migration 0013): they lie scattered over the table.
Index("ix_hazard_region_state_ranking", Hazard.region_id, Hazard.state,
      postgresql_include=["id", "reported_at", "reporter_role"])


class PhotoColumns:
    """What a stored photo is, for a hazard's evidence photo and a tip's photo alike: its blob
    (by SHA-256, never modified), size and type, and what its EXIF said."""

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    original_name: Mapped[str] = mapped_column(String(255), default="")
    orientation: Mapped[int | None]
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    captured_offset_known: Mapped[bool | None]
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    camera_make: Mapped[str | None] = mapped_column(String(100))
    camera_model: Mapped[str | None] = mapped_column(String(100))
    phash: Mapped[str | None] = mapped_column(String(16))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Photo(PhotoColumns, Base):
    """An evidence photo of a step of the loop."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    # The action whose evidence this is (report, submit, verify, ...).
    action: Mapped[str | None] = mapped_column(String(32))
    # Authenticity flags raised at upload: [{"code", "message", "photo_id"?}]; warnings unless
    # a setting makes them refuse.
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    hazard: Mapped[Hazard] = relationship(back_populates="photos")
