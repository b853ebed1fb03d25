"""亮晒排名: the monthly township ranking, computed from the timeline as of the month's end.

For month M (local days, Asia/Shanghai) with start S and end E (the next month's first
instant), every figure is read from events dated before the cutoff C = E, and from what a
hazard never changes (its township, its reporter's role, when it was reported). Hazards that
move on after E change nothing: the same month always gives the same ranking (as long as the
weights stay the same; the response shows them). A month not yet ended is answered as of now
and marked ``provisional``; a month not yet begun is refused (422).

Per township, over its hazards:
- base: hazards open at some moment of the month, i.e. reported before C, not ended (closed
  or rejected) before S, and not rejected before C (不予受理 is no hazard);
- ``rectification`` (整改率) = base hazards whose state at C is verified, spot-checked or
  closed (验收通过及以后) / base;
- ``on_time`` (按期整改率) = rectifications submitted (整改完成 events) in the month on or before
  the deadline then in force (the latest deadline set before the submission: assignment,
  return, spot-check failure, approved extension, recomputation) / rectifications submitted;
- ``overdue`` (超期数) = base hazards in rectification (已交办/整改中) at C whose deadline then in
  force was before C's local date;
- ``spot_check`` (抽查不合格率) = failed spot-checks in the month / spot-checks in the month;
- ``self_found`` (企业自查占比) = base hazards reported in the month by the enterprise itself
  (reporter_role == enterprise) / base hazards reported in the month.

Each component gets a score in 0..1, higher is better: rectification, on_time and self_found
their rate; spot_check 1 − its rate; overdue 1 − count / the largest count among the ranked
townships (1 for all when none is overdue). A component whose denominator is zero has no
score (null) and is left out, so

    index = 100 × Σ weight_i × score_i / Σ weight_i   (over the components with a score)

with the weights from settings (RANKING_WEIGHT_*). A township without base hazards has no
score at all: its index and rank are null and it is listed last. The index is rounded to two
decimals; townships with the same rounded index share a rank (1, 2, 2, 4, ...) and are listed
by division code.

Ended months are kept. Counting a month from the timeline takes seconds at a province of
1,000,000 hazards; no plain index changes that, since every hazard open in the month needs its
latest event before the cutoff. So once a month has ended, each township's raw counts (the
numerators and denominators above, the overdue count) are counted once and kept in
ranking_month (app/services/board/kept_months.py); scores, the overdue normalisation, the index
and ranks are computed from them at every request, so weights apply at once and a county and
the province rank from the same rows. A township not kept yet (another county asked first, a
township created since) is counted and kept when asked for; the worker keeps the last month
of every township as soon as it may (freeze_last_month).

This is exact because an ended month's counts never change: they read events dated before
the month's end and facts a hazard never changes (its township, reporter role and report
time, set when it is reported), and every event is dated with the server's clock when the
request or worker step that writes it runs (app/services/hazards/actions.py, hazards.py,
supervision.py, evaluation.py; an offline draft sent days later is an action of the day it
arrives, idempotent replays write nothing). Events are never edited or deleted
(timeline.py); the scale generator writes past events into an empty database only, where
nothing is kept yet. What remains is the transaction that read the clock before the month's
end and commits after it: a month is kept only once it ended FREEZE_MARGIN ago, and counted
live like the current month until then. Should the timeline ever be repaired by hand, or the
clock set back, `bihuan ranking forget` drops what was kept.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased, sessionmaker

from app.access.actor import Actor
from app.access.roles import require_role
from app.core.clock import Clock, local_day_start
from app.core.config import get_settings
from app.core.db import READ_ONLY, count_if, local_date_text, transaction, valid_id
from app.core.errors import NotFound, Unprocessable
from app.models import CheckItem, CheckTask, Enterprise, Event, Hazard, Region
from app.models.enums import RegionLevel, Role
from app.services.board import kept_months as ranking_months
from app.services.board.kept_months import COUNTS, Counts
from app.workflow.deadlines import DEADLINE_ACTIONS
from app.workflow.states import (
    ENDING_ACTIONS,
    OPEN_STATES,
    RECTIFICATION_OPEN,
    RECTIFIED_STATES,
    HazardState,
)

COMPONENTS = ("rectification", "on_time", "overdue", "spot_check", "self_found")
LABELS: dict[str, str] = {
    "rectification": "整改率",
    "on_time": "按期整改率",
    "overdue": "超期隐患数",
    "spot_check": "抽查不合格率",
    "self_found": "企业自查占比",
    "completion": "排查完成率",
    "index": "综合指数",
    "rank": "排名",
    "provisional": "本月尚未结束，排名为临时结果",
    "unranked": "本月无隐患数据，不参与排名",
}
FORMULA = ("综合指数 = 100 × Σ(权重 × 得分) / Σ权重（仅计有数据的分项）；"
           "得分：整改率、按期整改率、企业自查占比取其比率，抽查不合格率取 1 − 比率，"
           "超期隐患数取 1 − 本乡镇超期数 ÷ 各乡镇最大超期数")
COMPLETION_FORMULA = "；排查完成率取按期完成的排查项 ÷ 应完成的排查项"
FIRST_MONTH = date(2000, 1, 1)
LAST_MONTH = date(2099, 12, 1)  # as the board's dates: a later month has not begun anyway
# A month is kept (ranking_month) once it ended this long ago, and counted live until then.
# An action dates its event when its request begins and commits a moment later; a request or
# worker step lasts seconds (each worker step is its own short transaction), and app servers'
# clocks agree within seconds. An hour leaves a wide margin for all of that.
FREEZE_MARGIN = timedelta(hours=1)

# Timeline aliases, built once (an alias copies every column; building them per request
# showed in the endpoint's time, bench/bench_board.py).
LATEST = aliased(Event, name="latest")  # the latest event before the cutoff
ENDING = aliased(Event, name="ending")  # a hazard's close or reject event
SETTER = aliased(Event, name="setter")  # a deadline-setting event
SUBMIT = aliased(Event, name="submission")
CHECK = aliased(Event, name="spot_check")


@dataclass(frozen=True)
class Window:
    month: str
    start: datetime  # S
    cutoff: datetime  # C (exclusive): the month's end, or just after now if not yet ended
    as_of: datetime  # the month's end, or now
    cutoff_day: date  # C's local date: a deadline before it is overdue at C
    provisional: bool
    frozen: bool  # ended FREEZE_MARGIN ago or more: its counts are kept once counted


def month_window(month: str | None, clock: Clock) -> Window:
    """The month's bounds; the last ended month when none is given; 422 if malformed or not
    yet begun."""
    now, tz = clock.now(), get_settings().tz
    if month is None:
        first = (now.astimezone(tz).date().replace(day=1) - timedelta(days=1)).replace(day=1)
    else:
        first = _parse_month(month)
    following = (first + timedelta(days=32)).replace(day=1)
    start, end = local_day_start(first), local_day_start(following)
    if start > now:
        raise Unprocessable([{"loc": ["query", "month"], "type": "value_error",
                              "msg": "该月份尚未开始"}])
    as_of = min(end, now)
    # Exclusive bound: a provisional ranking includes what happened at this very instant.
    cutoff = min(end, now + timedelta(microseconds=1))
    return Window(f"{first:%Y-%m}", start, cutoff, as_of, as_of.astimezone(tz).date(),
                  end > now, now >= end + FREEZE_MARGIN)


def _parse_month(month: str) -> date:
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        first = None
    if first is None or not FIRST_MONTH <= first <= LAST_MONTH:
        raise Unprocessable([{"loc": ["query", "month"], "type": "value_error",
                              "msg": "月份格式应为 YYYY-MM（2000-01 至 2099-12）"}])
    return first


def ranking(session: Session, *, actor: Actor, month: str | None, region_id: int | None,
            clock: Clock) -> dict[str, Any]:
    """The townships under the caller's region (or `region_id` within it), ranked."""
    require_role(actor, "ranking")
    window = month_window(month, clock)
    townships, counts = _townships(session, _root_path(session, actor, region_id), window,
                                   clock.now())
    weights = get_settings().ranking_weights()
    formula = FORMULA
    if "completion" in weights:
        counts = _with_completion(session, counts, window)
        formula += COMPLETION_FORMULA
    rows = _score(townships, counts, weights)
    return {"month": window.month, "provisional": window.provisional, "as_of": window.as_of,
            "weights": weights, "formula": formula, "labels": LABELS, "townships": rows}


def _with_completion(session: Session, counts: Counts, window: Window) -> Counts:
    """Each township's 排查完成率 counts for the month (docs/checks.md): items of its
    enterprises' self-check tasks due in the month whose day has passed by the cutoff (or
    already recorded), and those recorded on time. Counted live, never kept: an item's due
    day and on-time mark never change once its day has passed, so an ended month's counts
    stay the same."""
    ids = list(counts)
    merged = {i: {**c, "items_due": 0, "items_on_time": 0} for i, c in counts.items()}
    if not ids:
        return merged
    last_day = (window.start.astimezone(get_settings().tz).date() + timedelta(days=32)
                ).replace(day=1) - timedelta(days=1)
    first_day = last_day.replace(day=1)
    due = (CheckTask.due_on < window.cutoff_day) | CheckItem.outcome.is_not(None)
    rows = session.execute(
        select(Enterprise.region_id, count_if(due),
               count_if(due & CheckItem.on_time.is_(True)))
        .select_from(CheckTask)
        .join(CheckItem, CheckItem.task_id == CheckTask.id)
        .join(Enterprise, Enterprise.id == CheckTask.enterprise_id)
        .where(Enterprise.region_id.in_(ids), CheckTask.inspector_id.is_(None),
               CheckTask.due_on.between(first_day, last_day))
        .group_by(Enterprise.region_id))
    for region_id, items_due, on_time in rows:
        merged[region_id].update(items_due=int(items_due or 0), items_on_time=int(on_time or 0))
    return merged


def _townships(session: Session, root_path: str, window: Window,
               now: datetime) -> tuple[list[Any], Counts]:
    """The townships under the path (by code) and their counts for the window: those kept
    read in the same query, the others counted from the timeline (and kept, once the month
    is frozen)."""
    query = (select(Region.id, Region.code, Region.name)
             .where(Region.level == RegionLevel.township,
                    Region.path.startswith(root_path, autoescape=True))
             .order_by(Region.code))
    if window.frozen:
        query = ranking_months.with_kept(query, Region.id, month=window.month,
                                         start=window.start, end=window.cutoff)
    townships = session.execute(query).all()
    counts = {t[0]: dict(zip(COUNTS, t[3:], strict=True)) for t in townships
              if window.frozen and t[3] is not None}
    missing = [t[0] for t in townships if t[0] not in counts]
    if missing:
        fresh = _count(session, missing, window)
        if window.frozen:
            ranking_months.store(session, month=window.month, start=window.start,
                                 end=window.cutoff, counts=fresh, now=now)
        counts |= fresh
    return townships, counts


def freeze_last_month(sessions: sessionmaker[Session], clock: Clock) -> tuple[str, int]:
    """Count and keep the last ended month of every township not kept yet (`bihuan worker`),
    so that no committee waits for it; (month, townships counted), 0 when there was nothing
    to do or the month ended less than FREEZE_MARGIN ago."""
    window = month_window(None, clock)
    if not window.frozen:
        return window.month, 0
    # Counted from a read-only snapshot (no write lock on SQLite while the timeline is read),
    # then kept in a short transaction of its own; a racing worker's upsert keeps the same.
    with sessions() as session:
        session.connection(execution_options={READ_ONLY: True})
        query = ranking_months.with_kept(
            select(Region.id).where(Region.level == RegionLevel.township), Region.id,
            month=window.month, start=window.start, end=window.cutoff)
        missing = [row[0] for row in session.execute(query) if row[1] is None]
        counts = _count(session, missing, window) if missing else {}
    if missing:
        with sessions() as session, transaction(session) as tx:
            ranking_months.store(tx, month=window.month, start=window.start,
                                 end=window.cutoff, counts=counts, now=clock.now())
    return window.month, len(missing)


def _count(session: Session, township_ids: list[int], window: Window) -> Counts:
    """The townships' counts from the timeline, every count of every township (0 if none)."""
    counts = {i: dict.fromkeys(COUNTS, 0) for i in township_ids}
    if not township_ids:
        return counts
    dialect = session.get_bind().dialect.name
    for query in (_base_counts(township_ids, window),
                  _on_time_counts(township_ids, window, dialect),
                  _spot_check_counts(township_ids, window)):
        for row in session.execute(query):
            counts[row.region_id].update({k: int(v or 0) for k, v in row._mapping.items()
                                          if k != "region_id"})
    return counts


def _root_path(session: Session, actor: Actor, region_id: int | None) -> str:
    own = actor.region_path or ""
    if region_id is None:
        return own
    path = session.scalar(select(Region.path).where(Region.id == region_id)) \
        if valid_id(region_id) else None
    if path is None or not own or not path.startswith(own):
        raise NotFound("区域不存在")
    return path


def _in_scope(township_ids: list[int]) -> ColumnElement[bool]:
    # The townships lie in the caller's region subtree, which is what a committee or admin
    # sees (hazard_visibility): repeating that clause only misleads the planner's estimates.
    return Hazard.region_id.in_(township_ids)


def _base_counts(township_ids: list[int], window: Window) -> Select[Any]:
    """Per township: base, rectified, overdue, found in the month, self-found."""
    start, cutoff = window.start, window.cutoff
    latest = LATEST

    def state_before_cutoff() -> ColumnElement[str]:
        return (select(latest.to_state)
                .where(latest.hazard_id == Hazard.id, latest.at < cutoff)
                .order_by(latest.seq.desc()).limit(1).scalar_subquery())

    columns = (Hazard.id.label("hazard_id"), Hazard.region_id, Hazard.reporter_role,
               Hazard.reported_at)
    scope = (_in_scope(township_ids), Hazard.reported_at < cutoff)
    # The base in two parts, each an indexed read at scale. Hazards not ended yet: they have
    # no ending event (the state says so, and an index finds them).
    not_ended = (select(*columns, state_before_cutoff().label("state"))
                 .where(*scope, Hazard.state.in_(OPEN_STATES)))
    # Hazards ended on or after S, unless rejected before C; closed before C means closed.
    ending = ENDING
    ended = (
        select(*columns, case((ending.at < cutoff, literal(HazardState.closed.value)),
                              else_=state_before_cutoff()).label("state"))
        .join(ending, and_(ending.hazard_id == Hazard.id, ending.action.in_(ENDING_ACTIONS)))
        .where(*scope, ending.at >= start, or_(ending.action == "close", ending.at >= cutoff))
    )
    # Computed once per hazard: the outer query reads `state` in several sums.
    base = (union_all(not_ended, ended).cte("base")
            .prefix_with("MATERIALIZED", dialect="postgresql"))
    in_rectification = base.c.state.in_(RECTIFICATION_OPEN)
    deadline = _deadline_before(base.c.hazard_id, cutoff)
    found = (base.c.reported_at >= start) & (base.c.reported_at < cutoff)
    return (
        select(
            base.c.region_id,
            func.count().label("base"),
            count_if(base.c.state.in_(RECTIFIED_STATES)).label("rectified"),
            count_if(in_rectification & (deadline < window.cutoff_day.isoformat()))
            .label("overdue"),
            count_if(found).label("found"),
            count_if(found & (base.c.reporter_role == Role.enterprise)).label("self_found"),
        )
        .group_by(base.c.region_id)
    )


def _deadline_before(hazard_id: ColumnElement[int], instant: datetime | None = None,
                     seq: ColumnElement[int] | None = None) -> ColumnElement[str]:
    """The deadline ('YYYY-MM-DD') the hazard's latest deadline-setting event before an
    instant (or before an event of its timeline) set; null if none."""
    setter = SETTER
    value = func.coalesce(setter.data[("deadline", "to")].as_string(),
                          setter.data["deadline"].as_string())
    before = setter.at < instant if seq is None else setter.seq < seq
    return (
        select(value)
        .where(setter.hazard_id == hazard_id, setter.action.in_(DEADLINE_ACTIONS), before,
               value.is_not(None))
        .order_by(setter.seq.desc()).limit(1).scalar_subquery()
    )


def _on_time_counts(township_ids: list[int], window: Window, dialect: str) -> Select[Any]:
    """Per township: rectifications submitted in the month, and those by their deadline."""
    submit = SUBMIT
    submitted_on = local_date_text(submit.at, dialect, window.cutoff)
    deadline = _deadline_before(submit.hazard_id, seq=submit.seq)
    return (
        select(Hazard.region_id, func.count().label("submitted"),
               count_if(submitted_on <= deadline).label("on_time"))
        .join(submit, submit.hazard_id == Hazard.id)
        .where(_in_scope(township_ids), submit.action == "submit",
               submit.at >= window.start, submit.at < window.cutoff)
        .group_by(Hazard.region_id)
    )


def _spot_check_counts(township_ids: list[int], window: Window) -> Select[Any]:
    """Per township: spot-checks made in the month, and those failed."""
    check = CHECK
    return (
        select(Hazard.region_id, func.count().label("spot_checks"),
               count_if(check.action == "spot_check_fail").label("spot_check_failures"))
        .join(check, check.hazard_id == Hazard.id)
        .where(_in_scope(township_ids),
               check.action.in_(("spot_check", "spot_check_fail")),
               check.at >= window.start, check.at < window.cutoff)
        .group_by(Hazard.region_id)
    )


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _score(townships: list[Any], counts: Counts,
           weights: dict[str, float]) -> list[dict[str, Any]]:
    """Components, index and rank per township (module docstring: the formula)."""
    most_overdue = max((c.get("overdue", 0) for c in counts.values()), default=0)
    rows = []
    for township in townships:
        c = counts[township.id]
        get = c.get
        has_base = get("base", 0) > 0
        components = {
            "rectification": _ratio(get("rectified", 0), get("base", 0)),
            "on_time": _ratio(get("on_time", 0), get("submitted", 0)),
            "overdue": {"count": get("overdue", 0),
                        "score": (1 - get("overdue", 0) / most_overdue if most_overdue else 1.0)
                        if has_base else None},
            "spot_check": _ratio(get("spot_check_failures", 0), get("spot_checks", 0),
                                 inverse=True),
            "self_found": _ratio(get("self_found", 0), get("found", 0)),
        }
        if "completion" in weights:
            components["completion"] = _ratio(get("items_on_time", 0), get("items_due", 0))
        scored = {name: comp["score"] for name, comp in components.items()
                  if comp["score"] is not None and has_base}
        total_weight = sum(weights[name] for name in scored)
        index = (round(100 * sum(weights[n] * s for n, s in scored.items()) / total_weight, 2)
                 if total_weight else None)
        for component in components.values():
            if component["score"] is not None:
                component["score"] = round(component["score"], 4)
        rows.append({"region_id": township.id, "code": township.code, "name": township.name,
                     "index": index, "rank": None, "components": components})
    ranked = sorted((r for r in rows if r["index"] is not None),
                    key=lambda r: (-r["index"], r["code"]))
    for position, row in enumerate(ranked):
        previous = ranked[position - 1] if position else None
        row["rank"] = previous["rank"] if previous and previous["index"] == row["index"] \
            else position + 1
    return ranked + [r for r in rows if r["index"] is None]


def _ratio(numerator: int, denominator: int, *, inverse: bool = False) -> dict[str, Any]:
    rate = _rate(numerator, denominator)
    score = None if rate is None else (1 - rate if inverse else rate)
    return {"numerator": numerator, "denominator": denominator,
            "rate": None if rate is None else round(rate, 4), "score": score}
