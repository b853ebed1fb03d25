"""A hand-counted story for the board and ranking tests: hazards of the demo county moved
through the loop across September, October and November 2026 (clock at 10:00 Shanghai).

城关镇 (T1): ent_a (机械) and ent_c (化工, made here); 清溪镇 (T2): ent_b (机械).

- H1, T1 ent_a, major, reported 09-20 by ent_a: assigned (deadline 10-10) and accepted 09-20;
  submitted 10-08 (on time); verified and spot-check failed 10-15 (new deadline 10-25);
  submitted 10-28 (late); verified, spot-checked and closed 11-02.
- H2, T2 ent_b, major, reported 09-20 by ent_b: assigned (deadline 10-05) and accepted 09-20;
  still rectifying (overdue since 10-06); listed (挂牌督办) 10-20.
- H3, T1 ent_a, general, reported 09-20 by ent_a: the whole loop to closed on 09-20.
- H4, T1 ent_c, major, reported 10-08 by insp_dept: assigned (deadline 10-20) and accepted
  10-08; submitted and verified 10-18 (on time); spot-checked and closed 11-02.
- H5, T2 ent_b, general, reported 10-08 by ent_b: rejected 10-15.
- H6, T1 ent_a, major, reported 11-02 by ent_a: stays reported.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.core.security import issue_token
from app.models import Enterprise, Industry, Region
from app.services.accounts.users import create_user
from tests.api.helpers import PLAN, act, ok, report

Auth = Callable[[str], dict[str, str]]


def set_day(clock: FixedClock, day: date) -> None:
    """10:00 in Shanghai on that day."""
    clock.at = datetime.combine(day, time(2, 0), tzinfo=UTC)


@dataclass
class Story:
    ids: dict[str, int]  # H1..H6 → hazard id
    town1: int
    town2: int
    machinery: int
    chemicals: int
    clock: FixedClock
    ranking_after_october: dict[str, Any] | None = None  # as seen on 11-01, before H1/H4 close


def add_chemicals_enterprise(db: Session, clock: FixedClock) -> tuple[Enterprise, int]:
    """ent_c: a 化工 enterprise in 城关镇 with its own user."""
    town1 = db.scalars(select(Region).where(Region.code == "339901100000")).one()
    chemicals = db.scalars(select(Industry).where(Industry.code == "huagong")).one()
    enterprise = Enterprise(name="城关化工有限公司", uscc="91339901MA2B00003M", region=town1,
                            industry=chemicals, address="城关镇化工园区2号")
    db.add(enterprise)
    db.flush()
    user = create_user(db, username="ent_c", password="ent-c-pass-2026", role="enterprise",
                       enterprise_id=enterprise.id, clock=clock)
    return enterprise, user.id


def build_story(client, auth: Auth, db: Session, clock: FixedClock,
                before_november: Callable[[], Any] | None = None) -> Story:
    set_day(clock, date(2026, 9, 20))
    chem, chem_user = add_chemicals_enterprise(db, clock)

    def who(username: str) -> dict[str, str]:
        if username == "ent_c":
            return {"Authorization": f"Bearer {issue_token(chem_user, clock.now())}"}
        return auth(username)

    def do(username: str, hid: int, action: str, data: dict[str, Any] | None = None,
           photos: int = 0) -> dict[str, Any]:
        return ok(act(client, who, username, hid, action, data, photos=photos))

    h1 = report(client, auth, "ent_a", level="major", title="冲压机防护罩缺失",
                major_clause="工贸行业重大事故隐患判定标准 第四条第（一）项")["id"]
    h2 = report(client, auth, "ent_b", level="major", title="粉尘除尘系统未接地",
                major_basis="除尘系统与车间连通，粉尘爆炸后果严重，需停产整改")["id"]
    h3 = report(client, auth, "ent_a", title="灭火器过期")["id"]
    do("anweiban", h1, "assign", {"deadline": "2026-10-10"})
    do("anweiban", h2, "assign", {"deadline": "2026-10-05"})
    do("anweiban", h3, "assign", {"deadline": "2026-09-30"})
    do("ent_a", h1, "accept", PLAN)
    do("ent_b", h2, "accept", PLAN)
    do("ent_a", h3, "accept")
    do("ent_a", h3, "submit", {"note": "已更换"}, photos=1)
    do("insp_dept", h3, "verify", {"note": "合格"}, photos=1)
    do("anweiban", h3, "spot_check", {"note": "合格"}, photos=1)
    do("anweiban", h3, "close")

    set_day(clock, date(2026, 10, 8))
    do("ent_a", h1, "submit", {"note": "已加装防护罩"}, photos=1)
    h4 = report(client, auth, "insp_dept", level="major", enterprise_id=chem.id,
                title="储罐区可燃气体报警器失效", major_clause="化工和危险化学品 第十七项")["id"]
    h5 = report(client, auth, "ent_b", title="配电室门未上锁")["id"]
    do("anweiban", h4, "assign", {"deadline": "2026-10-20"})
    do("ent_c", h4, "accept", PLAN)

    set_day(clock, date(2026, 10, 15))
    do("insp_dept", h1, "verify", {"note": "合格"}, photos=1)
    do("anweiban", h1, "spot_check_fail", {"reason": "防护罩未固定", "deadline": "2026-10-25"},
       photos=1)
    do("insp_dept", h5, "reject", {"reason": "重复上报"})

    set_day(clock, date(2026, 10, 18))
    do("ent_c", h4, "submit", {"note": "已更换报警器"}, photos=1)
    do("insp_dept", h4, "verify", {"note": "合格"}, photos=1)

    set_day(clock, date(2026, 10, 20))
    listing = client.post(f"/api/v1/hazards/{h2}/listing", headers=auth("anweiban"),
                          data={"level": "county", "authority": "演示县安委办",
                                "document_number": "演安委〔2026〕3号"})
    assert listing.status_code == 200, listing.text

    set_day(clock, date(2026, 10, 28))
    do("ent_a", h1, "submit", {"note": "已固定"}, photos=1)

    set_day(clock, date(2026, 11, 1))
    seen = before_november() if before_november else None

    set_day(clock, date(2026, 11, 2))
    do("insp_dept", h1, "verify", {"note": "合格"}, photos=1)
    do("anweiban", h1, "spot_check", {"note": "合格"}, photos=1)
    do("anweiban", h1, "close")
    do("anweiban", h4, "spot_check", {"note": "合格"}, photos=1)
    do("anweiban", h4, "close")
    h6 = report(client, auth, "ent_a", level="major", title="叉车制动失灵",
                major_basis="叉车在人员密集的装卸区作业，制动失灵可致群死群伤")["id"]

    set_day(clock, date(2026, 11, 23))
    towns = {code: rid for code, rid in db.execute(select(Region.code, Region.id))}
    industries = {code: iid for code, iid in db.execute(select(Industry.code, Industry.id))}
    return Story(ids={"H1": h1, "H2": h2, "H3": h3, "H4": h4, "H5": h5, "H6": h6},
                 town1=towns["339901100000"], town2=towns["339901101000"],
                 machinery=industries["jixie"], chemicals=industries["huagong"], clock=clock,
                 ranking_after_october=seen)
