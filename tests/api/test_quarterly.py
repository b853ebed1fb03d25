"""季度统计分析: GET /api/v1/statistics/quarterly and POST .../quarterly/filings.

One hand-built history across the second, third and fourth quarters of 2026 (Asia/Shanghai),
made through the HTTP API with the clock moved between steps (`story`). Expected figures are
counted by hand from that history, listed in `story`'s docstring.
"""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.access.actor import load_actor
from app.access.scopes import statistics_hazards, supervised_enterprises, unit_enterprise_pairs
from app.core.clock import FixedClock
from app.core.security import issue_token
from app.models import Enterprise, Hazard, QuarterlyTally, QuarterlyTallyCell, Region, Unit
from app.models.enums import Role
from app.services.accounts.users import create_user
from app.services.statistics.quarterly import Quarter, count_cells, hazard_figures, parse_funds
from tests.api.helpers import PLAN, act, ok, report

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/statistics/quarterly"
FILINGS = "/api/v1/statistics/quarterly/filings"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLAUSE = "工贸行业重大事故隐患判定标准 第四条第（一）项"


def at(clock: FixedClock, month: int, day: int, hour: int = 10, minute: int = 0,
       year: int = 2026) -> None:
    """Set the clock to a local (Shanghai) time; the story only ever moves it forward."""
    clock.at = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def deadline(clock: FixedClock) -> str:
    return (clock.at.astimezone(SHANGHAI).date() + timedelta(days=30)).isoformat()


def ids(db) -> dict[str, int]:
    """The demo county's ids by short name."""
    enterprises = {e.uscc: e.id for e in db.scalars(select(Enterprise))}
    regions = {r.name: r.id for r in db.scalars(select(Region))}
    units = {u.name: u.id for u in db.scalars(select(Unit))}
    return {
        "ent_a": enterprises["91339901MA2B00001F"], "ent_b": enterprises["91339901MA2B00002J"],
        "county": regions["演示县"], "town1": regions["城关镇"], "town2": regions["清溪镇"],
        "dept": units["演示县应急管理局"], "town_office": units["城关镇安全生产办公室"],
    }


def general(client, auth) -> int:
    return report(client, auth, "ent_a")["id"]


def major(client, auth, enterprise_id: int) -> int:
    return report(client, auth, "insp_dept", level="major", enterprise_id=enterprise_id,
                  major_clause=CLAUSE, title="冲压机防护罩缺失")["id"]


def assign(client, auth, clock, hid: int) -> None:
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": deadline(clock)}))


def accept(client, auth, hid: int, username: str = "ent_a", funds: str | None = None) -> None:
    data = {**PLAN, "plan_funds": funds} if funds is not None else {}
    ok(act(client, auth, username, hid, "accept", data))


def submit(client, auth, hid: int, username: str = "ent_a") -> None:
    ok(act(client, auth, username, hid, "submit", {"note": "已整改完毕"}, photos=1))


def verify(client, auth, hid: int) -> None:
    ok(act(client, auth, "insp_dept", hid, "verify", {"note": "现场复核合格"}, photos=1))


def reject(client, auth, hid: int) -> None:
    ok(act(client, auth, "insp_dept", hid, "reject", {"reason": "重复上报"}))


@pytest.fixture
def story(client, auth, clock, db) -> dict[str, int]:
    """Hazards of ent_a (城关镇) and ent_b (清溪镇), in time order:

    | hazard | reported | then | in Q3 2026 (Jul 1 – Sep 30) |
    |---|---|---|---|
    | H1 ent_a general | Jun 20 | verified Aug 5 | carried over, rectified |
    | H2 ent_a general | Jun 20 | verified Jun 25 | nothing (rectified in Q2) |
    | H3 ent_a general | Jul 10 | verified Aug 20 | found, rectified |
    | H4 ent_a major | Jul 15 | accepted Jul 16 (85000 元), verified Oct 3 |
      found, planned, outstanding |
    | H5 ent_a general | Aug 1 | rejected Aug 2 | nothing |
    | H6 ent_b major | Aug 10 | accepted Aug 11 (120000.50 元), verified Sep 1 |
      found, planned, rectified |
    | H7 ent_a general | Sep 10 | rejected Oct 5 | found, outstanding (not rejected by Sep 30) |
    | H8 ent_a general | Sep 30 23:30 | — | found, outstanding (Shanghai time) |
    | H9 ent_a general | Oct 2 | — | nothing (Q4) |

    Q3, ent_a: general found 3 (H3 H7 H8), rectified 2 (H1 H3), outstanding 2 (H7 H8),
    carried over 1 (H1), rate 2/4; major found 1 (H4), rectified 0, outstanding 1, planned 1,
    85000.00 元; total found 4, rectified 2, outstanding 3, carried 1, rate 2/5.
    Q3, ent_b: major found 1, rectified 1, outstanding 0, rate 1, planned 1, 120000.50 元.
    The clock is left on Oct 10 (before the Oct 15 due date).
    """
    at(clock, 6, 20)
    h1, h2 = general(client, auth), general(client, auth)
    for hid in (h1, h2):
        assign(client, auth, clock, hid)
        accept(client, auth, hid)
    at(clock, 6, 25)
    submit(client, auth, h2)
    verify(client, auth, h2)
    at(clock, 7, 10)
    h3 = general(client, auth)
    assign(client, auth, clock, h3)
    accept(client, auth, h3)
    at(clock, 7, 15)
    h4 = major(client, auth, ids(db)["ent_a"])
    assign(client, auth, clock, h4)
    at(clock, 7, 16)
    accept(client, auth, h4, funds="85000")
    at(clock, 8, 1)
    h5 = general(client, auth)
    at(clock, 8, 2)
    reject(client, auth, h5)
    at(clock, 8, 5)
    submit(client, auth, h1)
    verify(client, auth, h1)
    at(clock, 8, 10)
    h6 = major(client, auth, ids(db)["ent_b"])
    assign(client, auth, clock, h6)
    at(clock, 8, 11)
    accept(client, auth, h6, "ent_b", funds="120000.50")
    at(clock, 8, 20)
    submit(client, auth, h3)
    verify(client, auth, h3)
    at(clock, 9, 1)
    submit(client, auth, h6, "ent_b")
    verify(client, auth, h6)
    at(clock, 9, 10)
    h7 = general(client, auth)
    at(clock, 9, 30, 23, 30)
    h8 = general(client, auth)
    at(clock, 10, 2)
    h9 = general(client, auth)
    at(clock, 10, 3)
    submit(client, auth, h4)
    verify(client, auth, h4)
    at(clock, 10, 5)
    reject(client, auth, h7)
    at(clock, 10, 10)
    return {"h1": h1, "h2": h2, "h3": h3, "h4": h4, "h5": h5, "h6": h6, "h7": h7, "h8": h8,
            "h9": h9}


def figures(found=0, rectified=0, outstanding=0, carried_over=0, rate=None,
            g=(0, 0, 0, 0, None), m=(0, 0, 0, 0, None), planned=0, funds="0.00"):
    keys = ("found", "rectified", "outstanding", "carried_over", "rectification_rate")
    result: dict[str, Any] = dict(zip(keys, (found, rectified, outstanding, carried_over, rate),
                                      strict=True))
    result.update({f"general_{k}": v for k, v in zip(keys, g, strict=True)})
    result.update({f"major_{k}": v for k, v in zip(keys, m, strict=True)})
    result.update(major_planned=planned, funds_planned=funds)
    return result


ENT_A_Q3 = figures(4, 2, 3, 1, 0.4, g=(3, 2, 2, 1, 0.5), m=(1, 0, 1, 0, 0.0), planned=1,
                   funds="85000.00")
ENT_B_Q3 = figures(1, 1, 0, 0, 1.0, m=(1, 1, 0, 0, 1.0), planned=1, funds="120000.50")
BOTH_Q3 = figures(5, 3, 3, 1, 0.5, g=(3, 2, 2, 1, 0.5), m=(2, 1, 1, 0, 0.5), planned=2,
                  funds="205000.50")
NOTHING = figures()


def get(client, auth, username: str, expect: int = 200, **params: Any) -> dict[str, Any]:
    response = client.get(URL, params={"year": 2026, "quarter": 3, **params},
                          headers=auth(username))
    assert response.status_code == expect, response.text
    return response.json()


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in body["rows"]}


def file(client, auth, username: str, expect: int = 201, as_json: bool = True,
         **fields: Any) -> dict[str, Any]:
    data = {"year": 2026, "quarter": 3, **fields}
    kwargs: dict[str, Any] = {"json": data} if as_json else {"data": data}
    response = client.post(FILINGS, headers=auth(username), **kwargs)
    assert response.status_code == expect, response.text
    return response.json()


def test_enterprise_figures_count_the_quarter_as_it_ended(client, auth, story) -> None:
    body = get(client, auth, "anweiban")
    assert (body["period_start"], body["period_end"], body["due_on"]) == (
        "2026-07-01", "2026-09-30", "2026-10-15")
    assert body["ended"] is True and body["funds_unit"] == "元"
    by_name = rows(body)
    assert list(by_name) == ["演示机械制造有限公司", "清溪精密机械有限公司"]
    a, b = by_name["演示机械制造有限公司"], by_name["清溪精密机械有限公司"]
    assert a["figures"] == ENT_A_Q3
    assert b["figures"] == ENT_B_Q3
    assert (a["code"], a["region_name"]) == ("91339901MA2B00001F", "城关镇")
    assert body["total"] == BOTH_Q3


def test_a_hazard_rectified_after_the_quarter_counts_in_the_next(client, auth, story,
                                                                 clock) -> None:
    at(clock, 11, 23)
    a = rows(get(client, auth, "ent_a", quarter=4))["演示机械制造有限公司"]
    # Q4 so far: H4 verified Oct 3 (carried over from Q3); H8 carried over and open; H9 found;
    # H7 was rejected in Q4, so it no longer counts at all.
    assert a["figures"] == figures(1, 1, 2, 2, round(1 / 3, 4), g=(1, 0, 2, 1, 0.0),
                                   m=(0, 1, 0, 1, 1.0))
    body = get(client, auth, "ent_a", quarter=4)
    assert body["ended"] is False
    # Q3 is unchanged by everything that happened since.
    assert rows(get(client, auth, "ent_a"))["演示机械制造有限公司"]["figures"] == ENT_A_Q3
    # Q2: H1 and H2 found, H2 rectified; H1 outstanding at Jun 30.
    q2 = rows(get(client, auth, "ent_a", quarter=2))["演示机械制造有限公司"]["figures"]
    assert q2 == figures(2, 1, 1, 0, 0.5, g=(2, 1, 1, 0, 0.5))


def test_units_and_regions_roll_up_their_enterprises(client, auth, story, db) -> None:
    units = rows(get(client, auth, "anweiban", by="unit"))
    assert units["演示县应急管理局"]["figures"] == BOTH_Q3
    assert units["城关镇安全生产办公室"]["figures"] == ENT_A_Q3
    regions = get(client, auth, "anweiban", by="region")
    assert regions["region_id"] == ids(db)["county"]
    by_name = rows(regions)
    assert list(by_name) == ["城关镇", "清溪镇"]
    assert by_name["城关镇"]["figures"] == ENT_A_Q3
    assert by_name["清溪镇"]["figures"] == ENT_B_Q3
    assert (by_name["城关镇"]["enterprises"], by_name["城关镇"]["enterprises_filed"]) == (1, 0)
    assert regions["total"] == BOTH_Q3
    # Narrowed to a township: only what lies in it, units included.
    town2 = ids(db)["town2"]
    narrowed = get(client, auth, "anweiban", by="unit", region_id=town2)
    assert rows(narrowed)["演示县应急管理局"]["figures"] == ENT_B_Q3
    assert "城关镇安全生产办公室" not in rows(narrowed)
    assert narrowed["total"] == ENT_B_Q3


def test_scoping_never_counts_what_the_caller_cannot_see(client, auth, story, db) -> None:
    known = ids(db)
    own = get(client, auth, "ent_a")
    assert list(rows(own)) == ["演示机械制造有限公司"] and own["total"] == ENT_A_Q3
    assert [p["name"] for p in own["not_filed"]] == ["演示机械制造有限公司"]
    # ent_a asking for ent_b's township learns nothing: 404 like any region it cannot see.
    assert get(client, auth, "ent_a", 404, region_id=known["town2"]) == {"detail": "区域不存在"}
    assert get(client, auth, "ent_b")["total"] == ENT_B_Q3
    for by in ("unit", "region"):
        get(client, auth, "ent_a", 403, by=by)
    town = get(client, auth, "insp_town")
    assert list(rows(town)) == ["演示机械制造有限公司"] and town["total"] == ENT_A_Q3
    town_regions = get(client, auth, "insp_town", by="region")
    assert list(rows(town_regions)) == ["城关镇"] and town_regions["total"] == ENT_A_Q3
    assert list(rows(get(client, auth, "insp_town", by="unit"))) == ["城关镇安全生产办公室"]
    get(client, auth, "insp_town", 404, region_id=known["town2"])
    get(client, auth, "insp_town", 404, by="region", region_id=known["county"])
    assert get(client, auth, "insp_dept")["total"] == BOTH_Q3
    assert {p["name"] for p in town["not_filed"]} == {"演示机械制造有限公司",
                                                      "城关镇安全生产办公室"}


def test_filing_snapshots_the_figures_and_the_not_filed_list_shrinks(client, auth, story,
                                                                      clock, users) -> None:
    filing = file(client, auth, "ent_a", note="本季度无遗留重大隐患以外的问题")
    assert filing["version"] == 1 and filing["late"] is False
    assert filing["party_type"] == "enterprise" and filing["due_on"] == "2026-10-15"
    assert filing["figures"] == ENT_A_Q3
    assert filing["filed_at"] == "2026-10-10T10:00:00+08:00"
    assert filing["filed_by_id"] == users["ent_a"].id
    body = get(client, auth, "anweiban")
    a = rows(body)["演示机械制造有限公司"]
    assert (a["filed"], a["filing_status"], a["late"], a["filing_version"]) == (
        True, "on_time", False, 1)
    assert rows(body)["清溪精密机械有限公司"]["filing_status"] == "pending"
    assert [(p["party_type"], p["name"]) for p in body["not_filed"]] == [
        ("enterprise", "清溪精密机械有限公司"), ("unit", "演示县应急管理局"),
        ("unit", "城关镇安全生产办公室")]
    # Filed by form as well as by JSON; the inspector files for its unit.
    unit = file(client, auth, "insp_town", as_json=False)
    assert unit["party_type"] == "unit" and unit["figures"] == ENT_A_Q3
    dept = file(client, auth, "insp_dept")
    assert dept["figures"] == BOTH_Q3
    not_filed = get(client, auth, "anweiban")["not_filed"]
    assert [p["name"] for p in not_filed] == ["清溪精密机械有限公司"]


def test_late_filing_and_refiling(client, auth, story, clock) -> None:
    file(client, auth, "ent_a")  # Oct 10: on time
    at(clock, 10, 15, 23, 59)
    assert file(client, auth, "insp_town")["late"] is False  # the due date's last minute
    at(clock, 10, 16, 0, 1)
    refiled = file(client, auth, "ent_a", note="更正")
    assert (refiled["version"], refiled["late"], refiled["note"]) == (2, True, "更正")
    late = file(client, auth, "ent_b")
    assert (late["version"], late["late"]) == (1, True)
    body = get(client, auth, "anweiban")
    a, b = rows(body)["演示机械制造有限公司"], rows(body)["清溪精密机械有限公司"]
    # Judged on the first filing: a correction after the due date does not make it late.
    assert (a["filing_status"], a["late"], a["filing_version"]) == ("on_time", False, 2)
    assert a["filed_at"] == "2026-10-16T00:01:00+08:00"
    assert a["first_filed_at"] == "2026-10-10T10:00:00+08:00"
    assert (b["filing_status"], b["filing_status_label"], b["late"]) == ("late", "逾期上报", True)
    units = rows(get(client, auth, "anweiban", by="unit"))
    assert units["演示县应急管理局"]["filing_status"] == "overdue"
    assert units["城关镇安全生产办公室"]["filing_status"] == "on_time"
    history = client.get(FILINGS, params={"year": 2026, "quarter": 3}, headers=auth("ent_a"))
    assert [(f["party_type"], f["version"]) for f in history.json()] == [
        ("enterprise", 1), ("enterprise", 2)]
    everyone = client.get(FILINGS, params={"year": 2026, "quarter": 3},
                          headers=auth("anweiban")).json()
    assert len(everyone) == 4


def test_filing_refuses_bad_input_roles_and_open_quarters(client, auth, clock) -> None:
    assert file(client, auth, "anweiban", 403)["detail"] == "您的角色不能进行「上报季度统计」操作"
    # The role is refused before the body is read.
    response = client.post(FILINGS, content=b"{not json", headers={
        **auth("admin"), "content-type": "application/json"})
    assert response.status_code == 403
    at(clock, 11, 23)
    assert file(client, auth, "ent_a", 422, quarter=4)["detail"] == [
        {"loc": ["body", "quarter"], "msg": "该季度尚未结束，结束后才能上报",
         "type": "value_error"}]
    file(client, auth, "ent_a", 422, quarter=5)
    file(client, auth, "ent_a", 422, year=1999)
    file(client, auth, "ent_a", 422, quarter="三")
    file(client, auth, "ent_a", 422, note="a\x00b")
    response = client.post(FILINGS, content=b"[1, 2]", headers={
        **auth("ent_a"), "content-type": "application/json"})
    assert response.status_code == 422
    for body in (b"{not json", b"[" * 40_000):
        response = client.post(FILINGS, content=body, headers={
            **auth("ent_a"), "content-type": "application/json"})
        assert response.status_code == 422
    assert client.post(FILINGS, json={"year": 2026, "quarter": 3}).status_code == 401


@pytest.mark.parametrize("params", [
    {"year": 1999}, {"quarter": 0}, {"quarter": 5}, {"by": "township"}, {"format": "pdf"},
    {"year": "二〇二六"}, {"year": 2027, "quarter": 1},  # a quarter that has not begun
])
def test_bad_parameters_answer_422(client, auth, params) -> None:
    get(client, auth, "anweiban", 422, **params)


def test_unknown_region_is_404(client, auth) -> None:
    for region_id in (0, 2**31, 999999):
        get(client, auth, "anweiban", 404, region_id=region_id)


def test_xlsx_has_the_json_figures_and_the_not_filed_list(client, auth, story) -> None:
    file(client, auth, "ent_a")
    body = get(client, auth, "anweiban")
    response = client.get(URL, params={"year": 2026, "quarter": 3, "format": "xlsx"},
                          headers=auth("anweiban"))
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "quarterly-2026Q3-enterprise.xlsx" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["季度统计", "未上报名单", "说明"]
    sheet = [list(row) for row in workbook["季度统计"].iter_rows(values_only=True)]
    header = sheet[0]
    assert header[:6] == ["企业名称", "统一社会信用代码", "所属乡镇", "排查隐患数", "本季整改数",
                          "季末未整改数"]
    assert header[-3:] == ["上报状态", "上报时间", "上报版本"]
    assert "计划治理资金（元）" in header
    keys = list(ENT_A_Q3)
    by_name = rows(body)
    for line in sheet[1:-1]:
        json_row = by_name[line[0]]
        assert line[1:3] == [json_row["code"], json_row["region_name"]]
        assert _as_json(dict(zip(keys, line[3:3 + len(keys)], strict=True))) == \
            json_row["figures"]
    assert [line[0] for line in sheet[1:-1]] == list(by_name)
    assert sheet[1][-3:] == ["已按时上报", datetime(2026, 10, 10, 10, 0), 1]
    assert sheet[2][-3:] == ["未上报", None, None]
    total = sheet[-1]
    assert total[0] == "合计"
    assert _as_json(dict(zip(keys, total[3:3 + len(keys)], strict=True))) == body["total"]
    missing = [list(row) for row in workbook["未上报名单"].iter_rows(values_only=True)]
    assert missing == [["类型", "名称"], ["企业", "清溪精密机械有限公司"],
                       ["监管单位", "演示县应急管理局"], ["监管单位", "城关镇安全生产办公室"]]
    about = {row[0]: row[1] for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}
    assert about["上报截止日期"] == datetime(2026, 10, 15)
    assert about["资金单位"] == "元"


def test_xlsx_by_region_matches_json(client, auth, story) -> None:
    body = get(client, auth, "anweiban", by="region")
    response = client.get(URL, params={"year": 2026, "quarter": 3, "format": "xlsx",
                                       "by": "region"}, headers=auth("anweiban"))
    sheet = [list(r) for r in load_workbook(io.BytesIO(response.content))["季度统计"]
             .iter_rows(values_only=True)]
    keys = list(ENT_A_Q3)
    assert [line[:2] for line in sheet[1:-1]] == [[r["name"], r["code"]] for r in body["rows"]]
    for line, json_row in zip(sheet[1:-1], body["rows"], strict=True):
        assert _as_json(dict(zip(keys, line[2:2 + len(keys)], strict=True))) == \
            json_row["figures"]
        assert line[-2:] == [1, 0]


def _as_json(cells: dict[str, Any]) -> dict[str, Any]:
    """XLSX cells in the JSON's types: the money as its 2-decimal string."""
    return {k: (f"{Decimal(str(v)):.2f}" if k == "funds_planned" else v)
            for k, v in cells.items()}


def test_unit_enterprise_pairs_agree_with_supervised_enterprises(db, users) -> None:
    for username in ("insp_dept", "insp_town"):
        actor = load_actor(db, users[username])
        pairs = set(db.execute(unit_enterprise_pairs(
            select(Unit.id).where(Unit.id == actor.unit_id))).all())
        expected = {(actor.unit_id, e) for e in db.scalars(supervised_enterprises(actor))}
        assert pairs == expected and pairs


@pytest.mark.parametrize(("value", "amount"), [
    ("85000", Decimal(85000)), ("120000.50", Decimal("120000.50")), (85000, Decimal(85000)),
    ("8.5万", Decimal(85000)), ("8.5万元", Decimal(85000)), ("85,000 元", Decimal(85000)),
    ("￥1,200.5", Decimal("1200.5")), ("1E+3", Decimal(1000)),
    ("-5", None), ("约十万", None), ("NaN", None), ("Infinity", None), (None, None),
    (True, None), ("", None),
])
def test_parse_funds(value, amount) -> None:
    assert parse_funds(value) == amount


def test_due_dates_roll_into_the_next_year() -> None:
    assert [Quarter(2026, q).due_on for q in (1, 2, 3, 4)] == [
        date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15), date(2027, 1, 15)]
    assert Quarter(2026, 4).last_day == date(2026, 12, 31)
    # Midnight in Shanghai is 16:00 UTC the day before.
    assert Quarter(2026, 3).start_at() == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)


def test_a_township_committee_counts_only_its_township(client, story, db, clock) -> None:
    user = create_user(db, username="anweiban_town1", password="town1-pass-2026",
                       role=Role.committee, clock=clock, region_id=ids(db)["town1"])
    headers = {"Authorization": f"Bearer {issue_token(user.id, clock.now())}"}
    params = {"year": 2026, "quarter": 3}
    body = client.get(URL, params=params, headers=headers).json()
    assert list(rows(body)) == ["演示机械制造有限公司"] and body["total"] == ENT_A_Q3
    regions = client.get(URL, params={**params, "by": "region"}, headers=headers).json()
    assert list(rows(regions)) == ["城关镇"] and regions["total"] == ENT_A_Q3
    # Its units are those of its township; the county's department is not among them.
    units = client.get(URL, params={**params, "by": "unit"}, headers=headers).json()
    assert list(rows(units)) == ["城关镇安全生产办公室"]
    assert client.get(URL, params={**params, "region_id": ids(db)["town2"]},
                      headers=headers).status_code == 404


def test_xlsx_keeps_a_name_that_looks_like_a_formula_as_text(client, auth, db) -> None:
    db.add(Enterprise(name="=HYPERLINK(\"http://x\")", uscc="91339901MA2B00003X",
                      region_id=ids(db)["town1"],
                      industry_id=db.scalar(select(Enterprise.industry_id).limit(1))))
    db.flush()
    response = client.get(URL, params={"year": 2026, "quarter": 3, "format": "xlsx"},
                          headers=auth("anweiban"))
    sheet = load_workbook(io.BytesIO(response.content))["季度统计"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    formula = next(c for c in cells if str(c.value).startswith("="))
    assert formula.data_type == "s" and formula.value == "=HYPERLINK(\"http://x\")"


# --- the tally of ended quarters ---------------------------------------------------------


def counted(db, actor, quarter: Quarter, region_path: str | None) -> dict:
    """The figures counted from the timeline with the scope's reference definition."""
    scope = [statistics_hazards(actor)]
    if region_path is not None:
        scope.append(Hazard.region_id.in_(
            select(Region.id).where(Region.path.startswith(region_path))))
    paths = {region_id: path for region_id, path in db.execute(select(Region.id, Region.path))}
    return {(enterprise_id, paths[region_id]): figures for (enterprise_id, region_id), figures
            in count_cells(db, quarter, scope).items()}


def test_an_ended_quarter_is_tallied_once_and_equals_counting_for_every_caller(
        client, auth, story, db, users, clock) -> None:
    assert db.get(QuarterlyTally, (2026, 3)) is None
    assert get(client, auth, "anweiban")["total"] == BOTH_Q3  # the first request tallies Q3
    assert db.get(QuarterlyTally, (2026, 3)) is not None
    cells = db.scalars(select(QuarterlyTallyCell).where(QuarterlyTallyCell.quarter == 3)).all()
    assert len(cells) == 2  # ent_a in 城关镇, ent_b in 清溪镇
    paths = [None, *db.scalars(select(Region.path).where(Region.level == "township"))]
    for quarter in (2, 3, 4):  # Q4 has not ended: counted, never tallied
        q = Quarter(2026, quarter)
        for username in ("anweiban", "admin", "ent_a", "ent_b", "insp_dept", "insp_town"):
            actor = load_actor(db, users[username])
            for path in paths:
                figures = hazard_figures(db, actor=actor, quarter=q, region_path=path,
                                         now=clock.now())
                assert figures == counted(db, actor, q, path), (quarter, username, path)
    assert db.get(QuarterlyTally, (2026, 2)) is not None
    assert db.get(QuarterlyTally, (2026, 4)) is None


def test_a_quarter_is_counted_from_the_timeline_until_it_has_settled(
        client, auth, clock, db) -> None:
    at(clock, 9, 30, 23, 50)
    general(client, auth)
    at(clock, 10, 1, 0, 30)  # ended half an hour ago: requests stamped before the end may
    found = figures(1, 0, 1, 0, 0.0, g=(1, 0, 1, 0, 0.0))  # still be committing
    assert get(client, auth, "ent_a")["total"] == found
    assert db.get(QuarterlyTally, (2026, 3)) is None
    at(clock, 10, 1, 1, 0)
    assert get(client, auth, "ent_a")["total"] == found
    assert db.get(QuarterlyTally, (2026, 3)) is not None
    assert get(client, auth, "ent_a")["total"] == found  # now read from the tally


def test_a_failed_spot_check_does_not_move_the_first_rectification(client, auth, clock,
                                                                  db) -> None:
    """Verified Aug 5, spot-check failed Aug 10, verified again Oct 3: rectified in Q3 (its
    first verification), and nothing in Q4 (rectified before it began)."""
    at(clock, 7, 10)
    hid = major(client, auth, ids(db)["ent_a"])
    assign(client, auth, clock, hid)
    accept(client, auth, hid, funds="85000")
    at(clock, 8, 5)
    submit(client, auth, hid)
    verify(client, auth, hid)
    at(clock, 8, 10)
    ok(act(client, auth, "anweiban", hid, "spot_check_fail",
           {"reason": "联锁装置未接入", "deadline": deadline(clock)}, photos=1))
    at(clock, 10, 3)
    submit(client, auth, hid)
    verify(client, auth, hid)
    at(clock, 11, 23)
    q3 = figures(1, 1, 0, 0, 1.0, m=(1, 1, 0, 0, 1.0), planned=1, funds="85000.00")
    assert get(client, auth, "ent_a")["total"] == q3
    assert db.get(QuarterlyTally, (2026, 3)) is not None
    assert get(client, auth, "ent_a", quarter=4)["total"] == NOTHING


def test_a_quarter_with_nothing_to_count_is_not_tallied(client, auth, db) -> None:
    """Nothing to keep, and a database without hazards may still be filled with a generated
    history (`bihuan scale generate`), which a tally taken now would contradict."""
    body = get(client, auth, "anweiban")
    assert body["total"] == NOTHING and body["ended"] is True
    assert db.get(QuarterlyTally, (2026, 3)) is None
