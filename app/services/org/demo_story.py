"""The demo county's story: four months of hazards played through the real services.

`bihuan demo` loads the organisation (app/services/org/demo.py) as it stood four months ago,
adds three more enterprises and a second department, then plays the story day by day on a
clock set into the past: enterprises and inspectors report, inspectors assign, enterprises
rectify, inspectors verify or return, the committee spot-checks and closes. The worker's jobs
run every morning of the story (the caller passes them in), so reminders, 督办单 and
escalations, and the ranking's kept months, arise from the scan as they would in real life.
Nothing is written around the services: every timeline is genuine and `bihuan audit verify`
passes.

Everything is deterministic for a given day (one seeded random), except which general
hazards a draw picks for spot-checking: the draw's seed is random by design, so before each
general verification the committee sets the county's rate to 1 or 0 to have the outcome the
story needs (the timeline records that rate), and at the end to 0.2.
"""

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.access.actor import Actor, load_actor
from app.core.clock import Clock, FixedClock, local_today
from app.core.config import get_settings
from app.core.db import transaction
from app.core.security import hash_password
from app.models import Enterprise, Industry, Region, Unit, User
from app.models.enums import HazardLevel, Role, UnitKind
from app.services.accounts.users import create_user
from app.services.hazards.actions import perform_action, set_spot_check_rate
from app.services.hazards.report import report_hazard
from app.services.media.imaging.staged import StagedFile
from app.services.org import demo_photos
from app.services.org.demo import DEMO_COUNTY_CODE, DEMO_PASSWORD, load_demo
from app.services.org.uscc import check_character
from app.services.statistics.filing import file_quarterly
from app.services.statistics.quarterly import Quarter
from app.services.supervision import evaluation, extensions, listing, notices

STORY_DAYS = 120  # the story begins this many days before today
SEED = 20261204
WORKER_HOUR = time(7, 30)  # the worker's morning pass, local time
FINAL_RATE = Decimal("0.2")

Worker = Callable[[Clock], None]  # one pass of the worker's jobs at the clock's time


# --- the cast ------------------------------------------------------------------------------

# Enterprises the story adds: (key, name, township code, industry, address, lat, lon, user).
STORY_ENTERPRISES = [
    ("C", "城关新材料化工有限公司", "339901100000", "huagong", "城关镇化工园区6号",
     29.8105, 119.6802, "ent_c", "城关化工安全员"),
    ("D", "清溪精细化工有限公司", "339901101000", "huagong", "清溪镇沿江路21号",
     29.7581, 119.7533, "ent_d", "清溪化工安全员"),
    ("E", "城关建材有限公司", "339901100000", "jiancai", "城关镇石门路3号",
     29.7962, 119.7015, "ent_e", "城关建材安全员"),
]
# Who acts for each enterprise: its own user; the inspector that routes and verifies (a
# town-1 machinery or chemical enterprise alternates between the department and the office).
ENTERPRISE_USERS = {"A": "ent_a", "B": "ent_b", "C": "ent_c", "D": "ent_d", "E": "ent_e"}
ROUTERS = {"A": ("insp_town", "insp_dept"), "B": ("insp_dept",), "C": ("insp_dept", "insp_town"),
           "D": ("insp_dept",), "E": ("insp_town",)}
INDUSTRY_OF = {"A": "jixie", "B": "jixie", "C": "huagong", "D": "huagong", "E": "jiancai"}
ENTERPRISE_ORDER = ("A", "B", "C", "D", "E")

# (title, description, location, category) per industry.
GENERAL_TEXTS: dict[str, list[tuple[str, str, str, str]]] = {
    "jixie": [
        ("冲床光电保护装置失效", "3号冲床光电保护装置被短接，手伸入模具区时设备不停机",
         "冲压车间3号冲床", "设备设施"),
        ("砂轮机防护罩缺失", "打磨工位砂轮机防护罩拆除未恢复，托架间隙超过3毫米",
         "机加工车间打磨工位", "设备设施"),
        ("行车钢丝绳断丝超标", "5吨行车主钢丝绳一个捻距内断丝数超过报废标准",
         "装配车间行车", "特种设备"),
        ("配电箱门未关闭且无警示", "车间配电箱箱门敞开，内部线路裸露，无警示标识",
         "装配车间东侧配电箱", "电气安全"),
        ("安全通道堆放物料", "车间主通道堆放半成品，通道宽度不足1米", "机加工车间主通道",
         "作业环境"),
        ("焊接作业未设挡光屏", "焊接工位未设置挡光屏，周边人员未佩戴防护用品", "焊接车间",
         "人员防护"),
        ("消防栓被遮挡", "仓库消防栓前堆放纸箱，无法正常取用", "成品仓库", "消防安全"),
        ("员工未佩戴防护眼镜", "车床操作人员未佩戴防护眼镜作业", "机加工车间车床区",
         "人员行为"),
        ("气瓶未固定", "乙炔、氧气瓶未设防倾倒措施，间距不足5米", "焊接车间气瓶存放点",
         "危险作业"),
    ],
    "huagong": [
        ("储罐区可燃气体报警器故障", "甲醇储罐区2台可燃气体报警器显示故障未修复", "储罐区",
         "危险化学品"),
        ("静电接地线断开", "卸车台静电接地夹线缆断开，卸车时未接地", "装卸车台",
         "危险化学品"),
        ("防爆区使用非防爆电器", "甲类车间内使用非防爆排风扇", "甲类生产车间", "电气安全"),
        ("应急喷淋洗眼器无水", "酸碱罐区洗眼器水压不足，无法使用", "酸碱罐区", "应急设施"),
        ("危化品仓库超量存放", "危化品仓库存放量超过设计储量", "危化品仓库", "危险化学品"),
        ("动火作业票未审批", "检修动火作业未办理动火作业票即开始作业", "检修现场",
         "安全管理"),
        ("围堰排水阀常开", "储罐区围堰排水阀处于常开状态", "储罐区围堰", "危险化学品"),
    ],
    "jiancai": [
        ("除尘管道积尘严重", "粉磨车间除尘管道积尘严重，未定期清理", "粉磨车间", "粉尘防爆"),
        ("皮带输送机无防护罩", "皮带输送机尾轮无防护罩", "原料输送廊道", "设备设施"),
        ("窑头平台护栏缺失", "窑头操作平台一侧护栏缺失", "窑头平台", "作业环境"),
        ("叉车超速行驶", "厂区叉车行驶速度过快，无限速标识", "厂区道路", "人员行为"),
        ("有限空间未设警示", "料仓入口无有限空间警示标识，无管控措施", "料仓", "有限空间"),
    ],
}
# (title, description, location, category, major clause) per industry.
MAJOR_TEXTS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "jixie": [
        ("涉爆粉尘除尘系统未设泄爆装置", "铝镁粉尘打磨工段干式除尘器未设置泄爆装置",
         "抛光车间", "粉尘防爆", "《工贸企业重大事故隐患判定标准》第十二条第（三）项"),
        ("休息室设置在熔炼作业区内", "熔炼炉作业区内设置员工休息室", "熔炼车间", "作业环境",
         "《工贸企业重大事故隐患判定标准》第四条第（二）项"),
    ],
    "huagong": [
        ("液化烃储罐未设紧急切断阀", "液化烃球罐进出料管道未设置紧急切断阀", "球罐区",
         "危险化学品",
         "《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》第十条"),
        ("控制室面向具有火灾爆炸危险性装置一侧有门窗", "中控室朝向反应装置一侧设有门窗，"
         "不满足防火防爆要求", "中控室", "危险化学品",
         "《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》第九条"),
    ],
    "jiancai": [
        ("筒型储存库人工清库", "筒型储存库清库作业采用人工方式，未采取机械清库", "水泥储存库",
         "有限空间", "《工贸企业重大事故隐患判定标准》第六条第（二）项"),
    ],
}


# --- the plans -----------------------------------------------------------------------------

# A template: how many hazards follow it, the window of their report day (days from today,
# both ends included), and the steps (days after the report, action, parameters). Deadlines
# are given in days after the report. Windows keep every step before now and leave each
# hazard in the state the template names. A step on day 0 happens earlier today, so that the
# board's default period (this month so far) has figures even on the first of a month.
Steps = list[tuple[int, str, dict[str, Any]]]

_ASSIGNED = [(0, "report", {}), (1, "assign", {"deadline": 20}), (2, "accept", {})]


def _done(submit: int, verify: int, drawn: bool) -> Steps:
    return [(submit, "submit", {}), (verify, "verify", {"drawn": drawn})]


GENERAL_TEMPLATES: list[tuple[str, int, tuple[int, int], Steps]] = [
    ("closed", 10, (-118, -16), [(0, "report", {}), (1, "assign", {"deadline": 15}),
                                 (2, "accept", {}), *_done(10, 12, False), (14, "close", {})]),
    ("closed_checked", 6, (-118, -21), [*_ASSIGNED, *_done(13, 15, True),
                                        (18, "spot_check", {}), (19, "close", {})]),
    ("closed_late", 4, (-118, -19), [(0, "report", {}), (1, "assign", {"deadline": 8}),
                                     (2, "accept", {}), (10, "ack", {}),
                                     *_done(13, 15, False), (17, "close", {})]),
    ("closed_returned", 2, (-118, -25), [
        (0, "report", {}), (1, "assign", {"deadline": 14}), (2, "accept", {}),
        (9, "submit", {}), (11, "return", {"deadline": 22}), *_done(19, 21, False),
        (23, "close", {})]),
    ("closed_failed_check", 1, (-118, -31), [
        (0, "report", {}), (1, "assign", {"deadline": 14}), (2, "accept", {}),
        *_done(10, 12, True), (15, "spot_check_fail", {"deadline": 26}),
        *_done(23, 25, True), (28, "spot_check", {}), (29, "close", {})]),
    ("closed_extended", 1, (-118, -23), [
        (0, "report", {}), (1, "assign", {"deadline": 10}), (2, "accept", {}),
        (8, "extension_request", {"deadline": 20}), (9, "extension_approve", {}),
        *_done(18, 19, False), (21, "close", {})]),
    ("closed_today", 2, (-21, -21), [*_ASSIGNED, *_done(14, 17, False), (21, "close", {})]),
    ("rejected", 4, (-118, -2), [(0, "report", {}), (1, "reject", {})]),
    ("reported", 4, (-4, 0), [(0, "report", {})]),
    ("assigned", 3, (-8, -2), [(0, "report", {}), (1, "assign", {"deadline": 20})]),
    ("assigned_overdue", 1, (-30, -12), [(0, "report", {}), (1, "assign", {"deadline": 7})]),
    ("rectifying", 4, (-18, -3), _ASSIGNED),
    ("rectifying_overdue", 3, (-60, -13), [(0, "report", {}), (1, "assign", {"deadline": 10}),
                                           (2, "accept", {}), (12, "ack", {})]),
    ("rectifying_returned", 1, (-20, -13), [
        (0, "report", {}), (1, "assign", {"deadline": 25}), (2, "accept", {}),
        (10, "submit", {}), (12, "return", {"deadline": 32})]),
    ("rectifying_failed_check", 1, (-25, -13), [
        (0, "report", {}), (1, "assign", {"deadline": 14}), (2, "accept", {}),
        *_done(8, 10, True), (12, "spot_check_fail", {"deadline": 30})]),
    ("extension_refused", 1, (-50, -13), [
        (0, "report", {}), (1, "assign", {"deadline": 10}), (2, "accept", {}),
        (8, "extension_request", {"deadline": 25}), (9, "extension_refuse", {}),
        (12, "ack", {})]),
    ("extension_pending", 1, (-15, -6), [
        (0, "report", {}), (1, "assign", {"deadline": 20}), (2, "accept", {}),
        (5, "extension_request", {"deadline": 35})]),
    ("extension_granted", 1, (-29, -10), [
        (0, "report", {}), (1, "assign", {"deadline": 10}), (2, "accept", {}),
        (8, "extension_request", {"deadline": 30}), (9, "extension_approve", {})]),
    ("rectified", 4, (-20, -10), [*_ASSIGNED, (9, "submit", {})]),
    ("verified_drawn", 2, (-25, -12), [*_ASSIGNED, *_done(9, 11, True)]),
    ("verified_not_drawn", 2, (-25, -12), [*_ASSIGNED, *_done(9, 11, False)]),
    ("spot_checked", 2, (-25, -14), [*_ASSIGNED, *_done(9, 11, True), (13, "spot_check", {})]),
]

# Major hazards, each at its own enterprise: (template, enterprise, window, steps).
MAJOR_TEMPLATES: list[tuple[str, str, tuple[int, int], Steps]] = [
    ("major_closed", "C", (-110, -40), [
        (0, "report", {}), (1, "assign", {"deadline": 30}), (2, "accept", {"plan_days": 28}),
        *_done(25, 27, True), (30, "spot_check", {}), (31, "close", {})]),
    ("major_listed_closed", "A", (-110, -40), [
        (0, "report", {}), (1, "assign", {"deadline": 10}), (2, "accept", {"plan_days": 10}),
        (12, "ack", {}), (13, "interview", {}), (16, "listing", {}), (22, "submit", {}),
        (23, "evaluate", {}), (26, "verify", {"drawn": True}), (29, "spot_check", {}),
        (30, "delisting", {}), (31, "close", {})]),
    ("major_listed_rectified", "D", (-45, -28), [
        (0, "report", {}), (1, "assign", {"deadline": 10}), (2, "accept", {"plan_days": 10}),
        (12, "ack", {}), (13, "interview", {}), (16, "listing", {}), (25, "submit", {}),
        (26, "evaluate", {})]),
    ("major_rectifying", "B", (-30, -3), [
        (0, "report", {}), (1, "assign", {"deadline": 40}), (2, "accept", {"plan_days": 38})]),
    ("major_reported", "E", (-3, -1), [(0, "report", {})]),
]


@dataclass
class Plan:
    key: str
    template: str
    enterprise: str  # A … E
    level: HazardLevel
    text: tuple[str, ...]
    reporter: str  # username
    router: str  # the inspector who routes, verifies and decides extensions
    start: int  # the report day, days from today
    steps: Steps
    reuse_photo: bool = False
    hazard_id: int | None = None
    extension_id: int | None = None


def make_plans(rng: random.Random) -> list[Plan]:
    plans: list[Plan] = []
    used: dict[str, int] = {}
    turn = 0
    for template, count, (low, high), steps in GENERAL_TEMPLATES:
        for n in range(count):
            enterprise = ENTERPRISE_ORDER[turn % len(ENTERPRISE_ORDER)]
            turn += 1
            industry = INDUSTRY_OF[enterprise]
            texts = GENERAL_TEXTS[industry]
            text = texts[used.get(industry, 0) % len(texts)]
            used[industry] = used.get(industry, 0) + 1
            router = ROUTERS[enterprise][turn % len(ROUTERS[enterprise])]
            # One in four found by the inspector on a visit, the rest self-reported.
            reporter = router if rng.random() < 0.25 else ENTERPRISE_USERS[enterprise]
            plans.append(Plan(f"{template}-{n}", template, enterprise, HazardLevel.general,
                              text, reporter, router, rng.randint(low, high), steps))
    majors_used: dict[str, int] = {}
    for template, enterprise, (low, high), steps in MAJOR_TEMPLATES:
        industry = INDUSTRY_OF[enterprise]
        text = MAJOR_TEXTS[industry][majors_used.get(industry, 0)]
        majors_used[industry] = majors_used.get(industry, 0) + 1
        router = ROUTERS[enterprise][0]
        plans.append(Plan(template, template, enterprise, HazardLevel.major, text, router,
                          router, rng.randint(low, high), steps))
    # A photo sent again: enterprise A's latest report carries the scene photo of an earlier
    # one (the reused-photo flag).
    max((p for p in plans if p.enterprise == "A"), key=lambda p: p.start).reuse_photo = True
    return plans


# --- playing -------------------------------------------------------------------------------


@dataclass
class StoryReport:
    hazards: int = 0
    photos: int = 0
    worker_passes: int = 0
    users: list[str] = field(default_factory=list)


@dataclass(order=True)
class Beat:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


class Story:
    def __init__(self, sessions: sessionmaker[Session], *, now: datetime, worker: Worker,
                 workdir: Path) -> None:
        self.sessions = sessions
        self.now = now
        self.worker = worker
        self.workdir = workdir
        self.clock = FixedClock(now)
        self.tz = get_settings().tz
        self.today = local_today(self.clock)
        self.rng = random.Random(f"{SEED}-{self.today.isoformat()}")  # noqa: S311 (a story)
        self.actors: dict[str, Actor] = {}
        self.enterprises: dict[str, Enterprise] = {}
        self.report = StoryReport()
        self.photo_seed = 0
        self.first_photo: dict[str, bytes] = {}
        self.rate: Decimal | None = None

    # When things happen.

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def instant(self, offset: int, at: time) -> datetime:
        return datetime.combine(self.day(offset), at, tzinfo=self.tz).astimezone(UTC)

    def when(self, offset: int, minute: int) -> datetime:
        """A working-hours instant of that day; today, one between midnight and now."""
        if offset < 0:
            return self.instant(offset, time(9)) + timedelta(minutes=minute)
        midnight = self.instant(0, time(0))
        return midnight + (self.now - midnight) * (0.2 + 0.6 * minute / 420)

    def load_cast(self) -> None:
        with self.sessions() as session:
            for user in session.scalars(select(User)):
                self.actors[user.username] = load_actor(session, user)
            by_user = {u.enterprise_id: u.username for u in session.scalars(
                select(User).where(User.enterprise_id.is_not(None)))}
            for enterprise in session.scalars(select(Enterprise)):
                key = next(k for k, name in ENTERPRISE_USERS.items()
                           if name == by_user.get(enterprise.id))
                session.expunge(enterprise)
                self.enterprises[key] = enterprise

    def play(self) -> StoryReport:
        self.load_cast()
        beats: list[Beat] = []
        order = 0
        plans = make_plans(self.rng)
        for plan in plans:
            previous: datetime | None = None
            for offset, action, params in plan.steps:
                day = plan.start + offset
                at = self.when(day, self.rng.randrange(0, 420))
                if previous is not None and at <= previous:
                    at = previous + timedelta(minutes=self.rng.randint(20, 60))
                    if day == 0:  # today: still before now
                        at = min(at, previous + (self.now - previous) / 2)
                previous = at
                order += 1
                beats.append(Beat(at, order, self._step(plan, action, params)))
        for offset in range(-STORY_DAYS, 0):
            order += 1
            beats.append(Beat(self.instant(offset, WORKER_HOUR), order, self._worker_pass))
        beats += self._filings(order)
        beats.sort()
        assert beats[-1].at < self.now, "the story stays in the past"
        for beat in beats:
            self.clock.at = beat.at
            beat.run()
        self.clock.at = self.now
        self._set_rate(FINAL_RATE)
        self._worker_pass()
        self.report.hazards = len(plans)
        return self.report

    def _worker_pass(self) -> None:
        self.worker(self.clock)
        self.report.worker_passes += 1

    def _filings(self, order: int) -> list[Beat]:
        """The last quarter ended before yesterday: filed on time by enterprise A and the
        department, late by enterprise B (when the story reaches that far)."""
        yesterday = self.day(-1)
        # The quarter running yesterday began on `quarter_end`, when the one before ended.
        running = (yesterday.month - 1) // 3 + 1
        quarter_end = date(yesterday.year, 3 * running - 2, 1)
        q = Quarter(yesterday.year, running - 1) if running > 1 else Quarter(yesterday.year - 1, 4)
        beats = []
        for who, days_after, note in (("ent_a", 3, "本季度隐患均已按期整改"),
                                      ("insp_dept", 6, None), ("ent_b", 19, "补报")):
            filed_on = quarter_end + timedelta(days=days_after)
            if filed_on > yesterday:
                if who == "ent_b":
                    continue  # the late filing has not happened yet
                filed_on = yesterday
            at = datetime.combine(filed_on, time(10, 15), tzinfo=self.tz).astimezone(UTC)
            data = {"year": q.year, "quarter": q.quarter, "note": note}
            order += 1
            beats.append(Beat(at, order, self._in_transaction(
                lambda tx, who=who, data=data: file_quarterly(
                    tx, actor=self.actors[who], data=data, clock=self.clock))))
        return beats

    def _in_transaction(self, work: Callable[[Session], Any]) -> Callable[[], None]:
        def run() -> None:
            with self.sessions() as session, transaction(session) as tx:
                work(tx)
        return run

    # Photos.

    def photos(self, plan: Plan, count: int = 1) -> list[StagedFile]:
        enterprise = self.enterprises[plan.enterprise]
        assert enterprise.lat is not None and enterprise.lon is not None
        staged = []
        for _ in range(count):
            self.photo_seed += 1
            taken = (self.clock.at - timedelta(minutes=self.rng.randint(3, 40))
                     ).astimezone(self.tz)
            gps = (enterprise.lat + self.rng.uniform(-0.002, 0.002),
                   enterprise.lon + self.rng.uniform(-0.002, 0.002))
            data = demo_photos.phone_jpeg(SEED + self.photo_seed, taken=taken, gps=gps)
            staged.append(demo_photos.stage(self.workdir, f"IMG_{self.photo_seed:04d}.jpg",
                                            data))
        self.report.photos += count
        return staged

    # The steps.

    def _step(self, plan: Plan, action: str, params: dict[str, Any]) -> Callable[[], None]:
        act = self._in_transaction(lambda tx: getattr(self, f"_do_{action}")(tx, plan, **params))
        if action != "verify" or plan.level == HazardLevel.major:
            return act

        def verify() -> None:
            # The rate, in its own transaction just before (see the module's docstring).
            self._set_rate(Decimal(1) if params["drawn"] else Decimal(0))
            act()
        return verify

    def _enterprise_user(self, plan: Plan) -> Actor:
        return self.actors[ENTERPRISE_USERS[plan.enterprise]]

    def _act(self, tx: Session, plan: Plan, actor: Actor, action: str, form: dict[str, Any],
             photos: int = 0) -> None:
        assert plan.hazard_id is not None
        perform_action(tx, actor=actor, hazard_id=plan.hazard_id, action=action, form=form,
                       uploads=self.photos(plan, photos) if photos else [], clock=self.clock)

    def _deadline(self, plan: Plan, days: int) -> str:
        return self.day(plan.start + days).isoformat()

    def _do_report(self, tx: Session, plan: Plan) -> None:
        title, description, location, category, *clause = plan.text
        enterprise = self.enterprises[plan.enterprise]
        uploads = self.photos(plan, 1 + self.rng.randrange(2))
        if plan.reuse_photo:
            first = self.first_photo[plan.enterprise]
            uploads[0] = demo_photos.stage(self.workdir, "IMG_reused.jpg", first)
        else:
            self.first_photo.setdefault(plan.enterprise, uploads[0].path.read_bytes())
        form = {"title": title, "description": description, "location": location,
                "level": plan.level.value, "category": category,
                "major_clause": clause[0] if clause else None,
                "enterprise_id": enterprise.id, "lat": enterprise.lat, "lon": enterprise.lon}
        hazard = report_hazard(tx, actor=self.actors[plan.reporter], form=form,
                               uploads=uploads, clock=self.clock)
        plan.hazard_id = hazard.id

    def _do_assign(self, tx: Session, plan: Plan, deadline: int) -> None:
        self._act(tx, plan, self.actors[plan.router], "assign",
                  {"deadline": self._deadline(plan, deadline)})

    def _do_reject(self, tx: Session, plan: Plan) -> None:
        reason = self.rng.choice(("经现场核实不属于隐患", "与已上报隐患重复",
                                  "已在上报前当场整改完毕"))
        self._act(tx, plan, self.actors[plan.router], "reject", {"reason": reason})

    def _do_accept(self, tx: Session, plan: Plan, plan_days: int = 0) -> None:
        form: dict[str, Any] = {}
        if plan.level == HazardLevel.major:
            form = {"plan_owner": "张建国（总经理）",
                    "plan_measures": "停用相关设施，委托有资质单位设计改造方案并实施，"
                                     "改造完成后组织验收",
                    "plan_funds": str(self.rng.randrange(8, 60) * 10000),
                    "plan_deadline": self._deadline(plan, plan_days),
                    "plan_contingency": "划定警戒区域，专人值守，落实临时管控和应急处置措施"}
        self._act(tx, plan, self._enterprise_user(plan), "accept", form)

    def _do_submit(self, tx: Session, plan: Plan) -> None:
        note = self.rng.choice(("已按要求整改完毕，附整改后照片", "已更换损坏部件并组织复查",
                                "已整改，并对相关岗位人员进行了培训"))
        self._act(tx, plan, self._enterprise_user(plan), "submit", {"note": note}, photos=1)

    def _set_rate(self, rate: Decimal) -> None:
        if self.rate == rate:
            return
        with self.sessions() as session, transaction(session) as tx:
            set_spot_check_rate(tx, actor=self.actors["anweiban"], rate=rate, at=self.clock.at)
        self.rate = rate

    def _do_verify(self, tx: Session, plan: Plan, drawn: bool) -> None:
        self._act(tx, plan, self.actors[plan.router], "verify",
                  {"note": "现场复核，整改到位"}, photos=1)

    def _do_return(self, tx: Session, plan: Plan, deadline: int) -> None:
        self._act(tx, plan, self.actors[plan.router], "return",
                  {"reason": "整改不彻底，防护装置仍未恢复有效", "deadline":
                   self._deadline(plan, deadline)}, photos=1)

    def _do_spot_check(self, tx: Session, plan: Plan) -> None:
        self._act(tx, plan, self.actors["anweiban"], "spot_check",
                  {"note": "抽查现场，整改情况属实"}, photos=1)

    def _do_spot_check_fail(self, tx: Session, plan: Plan, deadline: int) -> None:
        self._act(tx, plan, self.actors["anweiban"], "spot_check_fail",
                  {"reason": "抽查发现问题反弹，整改未落实", "deadline":
                   self._deadline(plan, deadline)}, photos=1)

    def _do_close(self, tx: Session, plan: Plan) -> None:
        self._act(tx, plan, self.actors["anweiban"], "close", {"note": "同意销号"})

    def _do_extension_request(self, tx: Session, plan: Plan, deadline: int) -> None:
        assert plan.hazard_id is not None
        extension = extensions.request_extension(
            tx, actor=self._enterprise_user(plan), hazard_id=plan.hazard_id,
            form={"deadline": self._deadline(plan, deadline),
                  "reason": "所需配件需向厂家订购，到货周期较长",
                  "interim_measures": "停用相关设备，设置警戒线并安排专人巡查"},
            uploads=[], clock=self.clock)
        plan.extension_id = extension.id

    def _decide(self, tx: Session, plan: Plan, decision: str, note: str) -> None:
        assert plan.hazard_id is not None and plan.extension_id is not None
        extensions.decide_extension(tx, actor=self.actors[plan.router], hazard_id=plan.hazard_id,
                                    extension_id=plan.extension_id,
                                    form={"decision": decision, "note": note}, clock=self.clock)

    def _do_extension_approve(self, tx: Session, plan: Plan) -> None:
        self._decide(tx, plan, "approve", "理由充分，临时管控措施可行，同意延期")

    def _do_extension_refuse(self, tx: Session, plan: Plan) -> None:
        self._decide(tx, plan, "refuse", "可先采用替代配件整改，不同意延期")

    def _do_ack(self, tx: Session, plan: Plan) -> None:
        """The enterprise and the supervising units' inspectors sign their 督办单."""
        for username in (ENTERPRISE_USERS[plan.enterprise], "insp_dept", "insp_town"):
            actor = self.actors[username]
            for notice in notices.list_notices(tx, actor=actor):
                if notice.hazard_id == plan.hazard_id and notice.acknowledged_at is None:
                    notices.acknowledge(tx, actor=actor, notice_id=notice.id, now=self.clock.at)

    def _do_interview(self, tx: Session, plan: Plan) -> None:
        assert plan.hazard_id is not None
        listing.record_interview(
            tx, actor=self.actors["anweiban"], hazard_id=plan.hazard_id,
            form={"kind": "约谈", "document": f"演安委约〔{self.clock.at.year}〕3号",
                  "note": "约谈企业主要负责人，责令限期整改"}, clock=self.clock)

    def _do_listing(self, tx: Session, plan: Plan) -> None:
        assert plan.hazard_id is not None
        listing.list_hazard(
            tx, actor=self.actors["anweiban"], hazard_id=plan.hazard_id,
            form={"level": "county", "authority": "演示县安全生产委员会",
                  "document_number": f"演安委督〔{self.clock.at.year}〕{plan.start % 9 + 1}号"},
            clock=self.clock)

    def _do_evaluate(self, tx: Session, plan: Plan) -> None:
        assert plan.hazard_id is not None
        evaluation.evaluate(
            tx, actor=self._enterprise_user(plan), hazard_id=plan.hazard_id,
            form={"kind": "third_party", "evaluator": "浙江安评技术服务有限公司",
                  "summary": "整改措施已落实，隐患已消除，具备申请验收条件"},
            uploads=self.photos(plan), clock=self.clock)

    def _do_delisting(self, tx: Session, plan: Plan) -> None:
        assert plan.hazard_id is not None
        listing.delist_hazard(tx, actor=self.actors["anweiban"], hazard_id=plan.hazard_id,
                              form={"note": "整改验收合格，抽查属实，予以摘牌"}, clock=self.clock)


# --- the organisation the story adds, and loading it all -----------------------------------


def add_story_organisation(session: Session, *, clock: Clock) -> list[str]:
    """The second department (建材), three more enterprises and their users."""
    regions = {r.code: r for r in session.scalars(select(Region))}
    industries = {i.code: i for i in session.scalars(select(Industry))}
    session.add(Unit(name="演示县经济和信息化局", kind=UnitKind.department,
                     region_id=regions[DEMO_COUNTY_CODE].id, regions=[regions[DEMO_COUNTY_CODE]],
                     industries=[industries["jiancai"]]))
    password_hash = hash_password(DEMO_PASSWORD)
    usernames = []
    for n, (_key, name, town, industry, address, lat, lon, username, display) in enumerate(
            STORY_ENTERPRISES, start=3):
        first17 = f"91339901MA2B{n:05d}"
        enterprise = Enterprise(name=name, uscc=first17 + check_character(first17),
                                region=regions[town], industry=industries[industry],
                                address=address, lat=lat, lon=lon)
        session.add(enterprise)
        session.flush()
        create_user(session, username=username, password=DEMO_PASSWORD, role=Role.enterprise,
                    clock=clock, display_name=display, enterprise_id=enterprise.id,
                    password_hash=password_hash)
        usernames.append(username)
    return usernames


def load_demo_county(sessions: sessionmaker[Session], *, clock: Clock,
                     worker: Worker) -> StoryReport:
    """The demo county as it stood four months ago, then its story up to now.

    Refuses (Conflict) a database that holds other data, before writing anything. The
    organisation commits first; the story commits step by step as it is played.
    """
    now = clock.now()
    founded = FixedClock(now - timedelta(days=STORY_DAYS + 1))
    with sessions() as session, transaction(session) as tx:
        users = list(load_demo(tx, clock=founded))
        users += add_story_organisation(tx, clock=founded)
    with tempfile.TemporaryDirectory(prefix="bihuan-demo-") as workdir:
        report = Story(sessions, now=now, worker=worker, workdir=Path(workdir)).play()
    report.users = users
    return report
