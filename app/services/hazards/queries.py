"""Finding hazards: one visible hazard, the filtered and paged list, a hazard's timeline."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Exists, Select, exists, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.access.actor import Actor
from app.access.scopes import hazard_visibility
from app.core.clock import Clock, local_day_end, local_day_start, local_today
from app.core.cursors import decode_cursor, encode_cursor
from app.core.db import not_visible, valid_id
from app.core.errors import NotFound
from app.models import Assignment, Enterprise, Event, Hazard, Region
from app.models.enums import PartyType
from app.services.hazards.filters import HazardFilters
from app.services.hazards.timeline import events_of
from app.workflow.states import ENDED_STATES, ENDING_ACTIONS, RECTIFICATION_OPEN, HazardState

MAX_PAGE = 200


def visible_hazard(
    session: Session, actor: Actor, hazard_id: int, *, for_update: bool = False
) -> Hazard:
    """The hazard if the actor may see it; 404 otherwise (never 403 for the unseen)."""
    if not valid_id(hazard_id):
        raise NotFound("隐患不存在")
    query = select(Hazard).where(Hazard.id == hazard_id, hazard_visibility(actor))
    if for_update:
        query = query.with_for_update(of=Hazard)
    # Photos too: the response shows them, and a lazy load there would run on the event loop.
    hazard = session.scalars(query.options(selectinload(Hazard.assignments),
                                           selectinload(Hazard.photos))).first()
    if hazard is None:
        raise not_visible(session, Hazard, hazard_id, "隐患不存在")
    return hazard


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def region_subtree(region_id: int) -> Select[tuple[int]]:
    """Ids of the region and every region below it."""
    subtree = select(Region.path).where(Region.id == region_id).scalar_subquery()
    return select(Region.id).where(func.substr(Region.path, 1, func.length(subtree)) == subtree)


def filtered_query(actor: Actor, filters: HazardFilters, today: date,
                   region_ids: Sequence[int] | None = None) -> Select[Hazard]:
    """Visible hazards matching the list filters (shared by the list, the ledger, the board).

    `region_ids`, when given, is the subtree of `filters.region_id` already read: a township
    filter then reaches PostgreSQL as `region_id = <id>`, which it can serve newest first
    from an index, where a subquery makes it read the township's every row and sort them.
    """
    query = select(Hazard).where(hazard_visibility(actor))
    ids = (filters.enterprise_id, filters.region_id, filters.unit_id, filters.industry_id)
    if any(i is not None and not valid_id(i) for i in ids):
        return query.where(false())  # no row has such an id
    if filters.state is not None:
        query = query.where(Hazard.state == filters.state)
    if filters.level is not None:
        query = query.where(Hazard.level == filters.level)
    if filters.enterprise_id is not None:
        query = query.where(Hazard.enterprise_id == filters.enterprise_id)
    if filters.region_id is not None:
        query = query.where(Hazard.region_id.in_(
            region_subtree(filters.region_id) if region_ids is None else region_ids))
    if filters.unit_id is not None:
        query = query.where(
            Hazard.id.in_(
                select(Assignment.hazard_id).where(
                    Assignment.party_type == PartyType.unit, Assignment.party_id == filters.unit_id
                )
            )
        )
    if filters.overdue is not None:
        late = Hazard.state.in_(RECTIFICATION_OPEN) & (Hazard.deadline < today)
        query = query.where(late if filters.overdue else ~late | Hazard.deadline.is_(None))
    if filters.listed is not None:
        query = query.where(Hazard.under_listing if filters.listed
                            else ~Hazard.under_listing)
    query = _period_filters(query, filters)
    if filters.q:
        pattern = f"%{escape_like(filters.q.strip().lower())}%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Hazard.title, Hazard.description, Hazard.location, Hazard.code)
                )
            )
        )
    return query


def ending_event(*conditions: ColumnElement[bool]) -> Exists:
    """EXISTS the hazard's closing or rejecting event (at most one) matching the conditions."""
    return exists().where(Event.hazard_id == Hazard.id, Event.action.in_(ENDING_ACTIONS),
                          *conditions)


def _period_filters(query: Select[Hazard], filters: HazardFilters) -> Select[Hazard]:
    """The filters the committee's board drills down with (industry, open, dates)."""
    if filters.industry_id is not None:
        query = query.where(Hazard.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.industry_id == filters.industry_id)))
    if filters.open is not None:
        query = query.where(Hazard.state.not_in(ENDED_STATES) if filters.open
                            else Hazard.state.in_(ENDED_STATES))
    if filters.rejected is not None:
        query = query.where((Hazard.state == HazardState.rejected) if filters.rejected
                            else (Hazard.state != HazardState.rejected))
    if filters.reported_from is not None:
        query = query.where(Hazard.reported_at >= local_day_start(filters.reported_from))
    if filters.reported_to is not None:
        query = query.where(Hazard.reported_at < local_day_end(filters.reported_to))
    if filters.closed_from is not None or filters.closed_to is not None:
        bounds = []
        if filters.closed_from is not None:
            bounds.append(Event.at >= local_day_start(filters.closed_from))
        if filters.closed_to is not None:
            bounds.append(Event.at < local_day_end(filters.closed_to))
        query = query.where(Hazard.state == HazardState.closed, ending_event(*bounds))
    if filters.open_on is not None:
        end = local_day_end(filters.open_on)
        query = query.where(Hazard.reported_at < end, ~ending_event(Event.at < end))
    return query


def list_hazards(
    session: Session,
    *,
    actor: Actor,
    filters: HazardFilters,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> tuple[list[Hazard], str | None]:
    """A page of visible hazards, newest first.

    The cursor is keyset-based (the last id seen), so pages stay stable while rows are inserted.
    """
    limit = max(1, min(limit, MAX_PAGE))
    region_ids = None
    if filters.region_id is not None and valid_id(filters.region_id):
        region_ids = list(session.scalars(region_subtree(filters.region_id)))
    page_ids = filtered_query(actor, filters, local_today(clock), region_ids).with_only_columns(
        Hazard.id).order_by(Hazard.id.desc())
    if cursor:
        page_ids = page_ids.where(Hazard.id < decode_cursor(cursor, "h"))
    # Deferred join: the page's ids first, then their rows. Selecting ids only lets PostgreSQL
    # read them from a keyset index alone (region, state, id), where selecting whole rows made
    # it walk the primary key backwards past every newer hazard: ids follow report time and a
    # state such as `closed` lies far behind the newest rows (61,419 rows read for a page of
    # 50 in the generated province, 37 ms against 1.3 ms; bench/bench_scale.py).
    query = (select(Hazard).where(Hazard.id.in_(page_ids.limit(limit + 1).scalar_subquery()))
             .order_by(Hazard.id.desc())
             .options(selectinload(Hazard.assignments), selectinload(Hazard.photos)))
    rows = list(session.scalars(query))
    next_cursor = encode_cursor(rows[limit - 1].id, "h") if len(rows) > limit else None
    return rows[:limit], next_cursor


def hazard_events(session: Session, *, actor: Actor, hazard_id: int) -> list[Event]:
    visible_hazard(session, actor, hazard_id)
    return events_of(session, hazard_id)
