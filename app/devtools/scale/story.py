"""One hazard's story through the closed loop, cut at the generation's "now".

The story is played forward from the report with random but plausible delays: assignment to
the enterprise and its two supervising units (双重交办), acceptance (with the 五定 plan for a
major hazard), rectification on time or late, verification (sometimes returned), the
spot-check draw (`app.workflow.sampling.draw`, seeded), the spot-check (sometimes failed) and
the write-off; an overdue major hazard may be listed (挂牌督办), evaluated before its review
and delisted at write-off. Every event is chained with `app.services.timeline.compute_hash`,
the function `bihuan audit verify` checks with, and the hazard's row is what the actions
would have left: state, current deadline, plan, draw outcome, listing, was_overdue, version.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from app.devtools.scale.org import Firm
from app.models import Event
from app.models.enums import Duty, HazardLevel, PartyType, Role
from app.services.hazards.timeline import GENESIS, compute_hash
from app.workflow import sampling
from app.workflow.states import ENDING_ACTIONS
from app.workflow.states import HazardState as S

SECOND = 1_000_000  # times are whole microseconds since the epoch (exact, unlike floats)
HOUR = 3600 * SECOND
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

P_MAJOR = 0.03
P_REJECT = 0.04
P_LATE = {HazardLevel.general: 0.12, HazardLevel.major: 0.25}
P_RETURN = 0.08
P_SPOT_FAIL = 0.06
P_LIST_MAJOR = 0.6  # overdue major hazards the committee lists (挂牌督办)
P_LIST_GENERAL = 0.05  # general hazards long overdue that get listed too

# (category, title, location)
HAZARDS: tuple[tuple[str, str, str], ...] = (
    ("设备设施", "冲压设备安全防护装置缺失", "冲压车间"),
    ("设备设施", "砂轮机防护罩损坏", "机加工车间"),
    ("设备设施", "行车限位器失效", "装配车间"),
    ("设备设施", "叉车制动失灵仍在使用", "成品仓库"),
    ("用电安全", "配电箱未上锁且接线混乱", "配电房"),
    ("用电安全", "临时用电线路私拉乱接", "生产车间"),
    ("消防安全", "安全出口被堵塞", "员工宿舍"),
    ("消防安全", "灭火器过期未更换", "原料仓库"),
    ("消防安全", "疏散通道堆放杂物", "二号车间"),
    ("作业环境", "粉尘作业场所除尘系统未运行", "打磨车间"),
    ("作业环境", "有限空间作业未检测气体", "污水池"),
    ("危化品", "危险化学品未分类储存", "危化品仓库"),
    ("危化品", "可燃气体报警器未校验", "储罐区"),
    ("安全管理", "特种作业人员无证上岗", "焊接车间"),
    ("安全管理", "安全生产责任制未落实到岗", "办公楼"),
    ("安全管理", "动火作业未办理审批手续", "维修车间"),
)
MAJOR_CLAUSES = (
    "《工贸企业重大事故隐患判定标准》第四条第（一）项",
    "《工贸企业重大事故隐患判定标准》第五条第（三）项",
    "《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准》第二项",
    "《重大火灾隐患判定方法》（GB 35181）第6.1条",
)
SUBMIT_NOTES = ("已更换并调试合格", "已整改到位，附整改后照片", "已清理完毕并设专人巡查",
                "已按要求整改，建立台账")
VERIFY_NOTES = ("现场复核，整改到位", "经现场检查符合要求")
RETURN_REASONS = ("整改不彻底，需重新整改", "防护装置仍不符合要求")
SPOT_FAIL_REASONS = ("抽查发现问题反弹", "现场与整改照片不符")
REJECT_REASONS = ("经核实不属于事故隐患", "重复上报，已并入同一隐患")


class EventRow:
    """An event as its row will be written; duck-types `Event` for compute_hash."""

    __slots__ = ("action", "actor_enterprise_id", "actor_id", "actor_role", "actor_unit_id",
                 "at", "data", "from_state", "hash", "hazard_id", "id", "note", "photos",
                 "prev_hash", "seq", "to_state")

    def __init__(self, id: int, hazard_id: int, seq: int, action: str, from_state: str | None,
                 to_state: str, actor: "Actor", at: datetime, note: str | None,
                 data: dict[str, Any], prev_hash: str) -> None:
        self.id, self.hazard_id, self.seq, self.action = id, hazard_id, seq, action
        self.from_state, self.to_state = from_state, to_state
        self.actor_id, self.actor_role, self.actor_unit_id, self.actor_enterprise_id = actor
        self.at, self.note, self.data, self.photos = at, note, data, []
        self.prev_hash = prev_hash
        self.hash = compute_hash(prev_hash, cast(Event, self))


Actor = tuple[int, str, int | None, int | None]  # user id, role, unit id, enterprise id


@dataclass
class Story:
    """A hazard's events so far and the fields they leave on the hazard row."""

    hazard_id: int
    code: str
    level: HazardLevel
    asof: int  # events after this instant have not happened yet
    next_event_id: int
    tz: ZoneInfo
    events: list[EventRow] = field(default_factory=list)
    state: str = S.reported
    stopped: bool = False
    deadline: date | None = None
    plan: dict[str, str] | None = None
    spot_check_drawn: bool | None = None
    listing: dict[str, str] | None = None
    updated_at: int = 0
    version: int = 1
    assigned_at: int | None = None
    parties: list[tuple[str, int, str]] = field(default_factory=list)
    # (start, end, deadline) of each stretch the enterprise owed the rectification
    open_spans: list[tuple[int, int, date]] = field(default_factory=list)

    def add(self, action: str, to_state: str, actor: Actor, at: int, note: str | None = None,
            data: dict[str, Any] | None = None, changes_hazard: bool = True) -> bool:
        """Append the event if it has happened by `asof`; False once the story is cut."""
        if self.stopped or at > self.asof:
            self.stopped = True
            return False
        prev = self.events[-1].hash if self.events else GENESIS
        from_state = self.state if self.events else None
        self.events.append(EventRow(self.next_event_id, self.hazard_id, len(self.events) + 1,
                                    action, from_state, to_state, actor,
                                    EPOCH + timedelta(microseconds=at), note, data or {}, prev))
        self.next_event_id += 1
        if to_state != from_state:
            self.updated_at = at
        if changes_hazard and self.events[-1].seq > 1:
            self.version += 1
        self.state = to_state
        return True

    def ended_at(self) -> datetime | None:
        """The hazard row's `ended_at`: when its close or reject event happened, if it did."""
        return next((e.at for e in self.events if e.action in ENDING_ACTIONS), None)

    def local_date(self, at: int) -> date:
        return (EPOCH + timedelta(microseconds=at)).astimezone(self.tz).date()

    def day_end(self, day: date) -> int:
        """The first instant after `day` ends, local time (when the hazard becomes overdue)."""
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(days=1)
        return (start - EPOCH) // timedelta(microseconds=1)

    def was_overdue(self) -> bool:
        return any(start <= self.asof and min(end, self.asof) > self.day_end(deadline)
                   for start, end, deadline in self.open_spans)


def _hours(rng: random.Random, low: float, high: float) -> int:
    return int(rng.uniform(low, high) * HOUR)


def play(rng: random.Random, story: Story, firm: Firm, reported_at: int, title: str,
         location: str, description: str, major_clause: str | None, reporter: Actor,
         spot_rate: Decimal) -> None:
    """Play the story from the report until it ends or reaches `story.asof`."""
    enterprise: Actor = (firm.user_id, Role.enterprise, None, firm.id)
    office: Actor = (firm.office_user_id, Role.inspector, firm.office_unit_id, None)
    department: Actor = (firm.department_user_id, Role.inspector, firm.department_unit_id, None)
    committee: Actor = (firm.committee_user_id, Role.committee, None, None)
    level = story.level
    t = reported_at
    story.add("report", S.reported, reporter, t, description,
              {"level": level, "title": title, "location": location,
               "major_clause": major_clause, "criterion_id": None, "enterprise_id": firm.id})
    if rng.random() < P_REJECT:
        story.add("reject", S.rejected, office, t + _hours(rng, 2, 72), rng.choice(REJECT_REASONS))
        return
    t += _hours(rng, 2, 7 * 24)  # triage and 交办 within a week
    story.deadline = story.local_date(t) + timedelta(
        days=rng.randint(30, 90) if level == HazardLevel.major else rng.randint(7, 30))
    story.parties = [(PartyType.enterprise, firm.id, Duty.rectify),
                     (PartyType.unit, firm.department_unit_id, Duty.supervise),
                     (PartyType.unit, firm.office_unit_id, Duty.supervise)]
    if not story.add("assign", S.assigned, office if rng.random() < 0.8 else committee, t,
                     data={"deadline": story.deadline.isoformat(), "deadline_basis": None,
                           "assignments": [{"party_type": p, "party_id": i, "duty": d}
                                           for p, i, d in story.parties]}):
        story.deadline, story.parties = None, []
        return
    story.assigned_at = open_from = t
    t += _hours(rng, 2, 5 * 24)  # 签收
    plan_data: dict[str, Any] = {}
    if level == HazardLevel.major:
        plan = {"owner": "企业主要负责人", "measures": "停产整改，更换设备并加装联锁",
                "funds": str(rng.randrange(20_000, 500_000, 1000)),
                "deadline": story.deadline.isoformat(), "contingency": "制定专项应急预案并演练"}
        plan_data = {"plan": plan}
    if not story.add("accept", S.rectifying, enterprise, t, data=plan_data):
        story.open_spans.append((open_from, story.asof, story.deadline))
        return
    if plan_data:
        story.plan = plan_data["plan"]
    late = rng.random() < P_LATE[level]
    failed_before = False
    while True:  # one round: rectify, submit, review, draw, spot-check
        deadline_end = story.day_end(story.deadline)
        if late:
            submit_at = deadline_end + _hours(rng, 24, 45 * 24)
            late = False
        else:
            submit_at = max(t + HOUR, rng.randint(t + HOUR, max(t + HOUR, deadline_end - HOUR)))
        story.open_spans.append((open_from, submit_at, story.deadline))
        listing_at = deadline_end + _hours(rng, 3 * 24, 6 * 24)
        if (story.listing is None and listing_at < submit_at
                and rng.random() < (P_LIST_MAJOR if level == HazardLevel.major
                                    else P_LIST_GENERAL * (submit_at > deadline_end + 20 * DAY))):
            listing = {"level": "county", "authority": f"{firm.county_name}安全生产委员会办公室",
                       "document_number": f"{firm.county_name[:2]}安委办督〔{story.code[10:14]}〕"
                                          f"{story.hazard_id}号",
                       "listed_on": story.local_date(listing_at).isoformat()}
            if not story.add("listing", story.state, committee, listing_at, data=dict(listing)):
                return
            story.listing = listing
        t = submit_at
        if not story.add("submit", S.rectified, enterprise, t, rng.choice(SUBMIT_NOTES)):
            return
        if story.listing is not None and level == HazardLevel.major:
            t += _hours(rng, 24, 5 * 24)
            if not story.add("evaluate", S.rectified, enterprise, t, "评估结论：整改达到要求",
                             {"kind": "self", "kind_label": "企业自评", "evaluator": None,
                              "review_due_on": str(story.local_date(t) + timedelta(days=10))},
                             changes_hazard=False):
                return
        t += _hours(rng, 4, 7 * 24)  # 验收复核 on site
        verifier = department if rng.random() < 0.5 else office
        if rng.random() < P_RETURN:
            new_deadline = story.local_date(t) + timedelta(days=rng.randint(7, 15))
            if not story.add("return", S.rectifying, verifier, t, rng.choice(RETURN_REASONS),
                             {"deadline": {"from": story.deadline.isoformat(),
                                           "to": new_deadline.isoformat()}}):
                return
            story.deadline, open_from = new_deadline, t
            continue
        if not story.add("verify", S.verified, verifier, t, rng.choice(VERIFY_NOTES)):
            return
        verification = story.events[-1]
        draw = sampling.draw(hazard_code=story.code, level=level, rate=spot_rate,
                             failed_before=failed_before, seed=f"{rng.getrandbits(128):032x}")
        story.spot_check_drawn = draw.drawn
        story.add("sample", S.verified, verifier, t,
                  "抽中，待抽查" if draw.drawn else "未抽中，可直接销号", draw.as_data(),
                  changes_hazard=False)
        if draw.drawn:
            t += _hours(rng, 24, 20 * 24)
            if not failed_before and rng.random() < P_SPOT_FAIL:
                new_deadline = story.local_date(t) + timedelta(days=rng.randint(7, 15))
                if not story.add("spot_check_fail", S.rectifying, committee, t,
                                 rng.choice(SPOT_FAIL_REASONS),
                                 {"deadline": {"from": story.deadline.isoformat(),
                                               "to": new_deadline.isoformat()},
                                  "failed_verification": {
                                     "event_id": verification.id,
                                     "verifier_id": verification.actor_id,
                                     "verifier_unit_id": verification.actor_unit_id,
                                     "verified_at": verification.at.isoformat()}}):
                    return
                story.spot_check_drawn, failed_before, open_from = None, True, t
                story.deadline = new_deadline
                continue
            if not story.add("spot_check", S.spot_checked, committee, t, "抽查合格"):
                return
        t += _hours(rng, 24, 30 * 24)  # 销号 is done in batches, often monthly
        if story.listing is not None:
            if not story.add("delisting", story.state, committee, t - HOUR, "整改完成，予以摘牌",
                             {"listing": dict(story.listing)}):
                return
            story.listing = None
        close_data: dict[str, Any] = {"spot_checked": story.state == S.spot_checked}
        if story.state == S.verified:
            close_data["closed_without_spot_check"] = "not drawn in the sample"
        story.add("close", S.closed, committee, t, None, close_data)
        return
