"""群众举报的统计 (GET /tips/figures) and the committee's quarterly reward list (XLSX):
by township and month, counts and sums only, never a phone or a receipt."""

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Region, Tip
from tests.api.helpers import ok
from tests.api.test_tips import NEAR_A, PHONE, tip, tip_id_of

FIGURES = "/api/v1/tips/figures"
REWARDS = "/api/v1/tips/rewards.xlsx"


def convert(client, auth, tip_id: int, level: str = "general") -> None:
    fields = {"title": "安全出口堵塞", "level": level}
    if level == "major":
        fields["major_basis"] = "人员密集场所安全出口锁闭"
    ok(client.post(f"/api/v1/tips/{tip_id}/actions/convert", data=fields,
                   headers=auth("anweiban")))


def story(client, auth, db: Session, clock, settings) -> dict[str, int]:
    """Four tips in November: one converted, rewarded and paid; one rejected; one left
    untriaged until overdue; one the routing could not place. A December reward."""
    settings.tip_rate_limit = 50
    ids = {name: tip_id_of(db, tip(client, phone=PHONE, **fields)["receipt"]) for name, fields in (
        ("converted", NEAR_A), ("rejected", NEAR_A), ("waiting", NEAR_A),
        ("unplaced", {"lat": "20.0", "lon": "100.0"}))}
    convert(client, auth, ids["converted"], "major")
    ok(client.post(f"/api/v1/tips/{ids['rejected']}/actions/reject",
                   data={"reason": "重复举报"}, headers=auth("anweiban")))
    ok(client.post(f"/api/v1/tips/{ids['converted']}/reward", data={"fine_amount": "20000"},
                   headers=auth("anweiban")))
    ok(client.post(f"/api/v1/tips/{ids['converted']}/reward/paid", headers=auth("anweiban")))
    clock.advance(timedelta(days=10))  # 2026-12-03
    late = tip_id_of(db, tip(client, **NEAR_A)["receipt"])
    convert(client, auth, late)
    ok(client.post(f"/api/v1/tips/{late}/reward", data={}, headers=auth("anweiban")))
    ids["late"] = late
    return ids


def test_figures_by_township_and_month(client, auth, db, clock, settings) -> None:
    story(client, auth, db, clock, settings)
    clock.advance(timedelta(days=60))  # 2027-02-01: the untriaged November tip is overdue
    body = ok(client.get(FIGURES, params={"from": "2026-11-01", "to": "2026-12-31"},
                         headers=auth("anweiban")))
    town = db.get(Tip, tip_id_of_any(db)).region_id
    cells = {(r["region_id"], r["month"]): r for r in body["rows"]}
    november = cells[(town, "2026-11")]
    assert (november["received"], november["converted"], november["rejected"],
            november["overdue"]) == (3, 1, 1, 1)
    # 15% of 20,000 is 3,000: the minimum of the major tier.
    assert (november["rewards_decided"], november["reward_amount_decided"],
            november["rewards_paid"], november["reward_amount_paid"]) == (1, 3000, 1, 3000)
    december = cells[(town, "2026-12")]
    assert (december["received"], december["converted"], december["rewards_decided"],
            december["reward_amount_decided"], december["rewards_paid"]) == (1, 1, 1, 500, 0)
    unplaced = cells[(None, "2026-11")]
    assert unplaced["region_name"] == "未定位" and unplaced["received"] == 1
    assert db.get(Region, town).name == november["region_name"]
    total = body["total"]
    assert (total["received"], total["converted"], total["rejected"], total["overdue"],
            total["rewards_decided"], total["reward_amount_decided"],
            total["reward_amount_paid"]) == (5, 2, 1, 2, 2, 3500, 3000)
    [township_sum] = [r for r in body["by_township"] if r["region_id"] == town]
    assert township_sum["month"] == "" and township_sum["received"] == 4
    assert PHONE not in str(body)
    assert body["labels"]["received"] == "收到举报"
    # One month only; then the refusals.
    only_dec = ok(client.get(FIGURES, params={"from": "2026-12-01", "to": "2026-12-31"},
                             headers=auth("anweiban")))
    assert only_dec["total"]["received"] == 1 and only_dec["total"]["rewards_paid"] == 0
    assert client.get(FIGURES, headers=auth("ent_a")).status_code == 403
    assert client.get(FIGURES, params={"from": "2026-12-31", "to": "2026-12-01"},
                      headers=auth("anweiban")).status_code == 422
    assert client.get(FIGURES).status_code == 401


def tip_id_of_any(db: Session) -> int:
    return db.scalars(select(Tip.id).where(Tip.region_id.is_not(None)).order_by(Tip.id)).first()


def test_the_quarterly_reward_list_for_the_committee(client, auth, db, clock,
                                                     settings) -> None:
    ids = story(client, auth, db, clock, settings)
    response = client.get(REWARDS, params={"year": 2026, "quarter": 4},
                          headers=auth("anweiban"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "tip-rewards-2026Q4.xlsx" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["举报奖励清单"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "举报编号" and "奖励金额（元）" in header and "状态" in header
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [line[0] for line in lines[:-1]] == [ids["converted"], ids["late"]]
    amount, state = header.index("奖励金额（元）"), header.index("状态")
    assert [(line[amount], line[state]) for line in lines[:-1]] == [(3000, "已发放"),
                                                                   (500, "待领取")]
    assert lines[-1][0] == "合计" and lines[-1][amount] == 3500
    # An export: no phone, no receipt anywhere in the workbook.
    receipts = set(db.scalars(select(Tip.receipt)))
    text = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows()
                    for c in row if c.value is not None)
    assert PHONE not in text and not any(r in text for r in receipts)
    # Another quarter is empty; only the committee may have the list.
    empty = load_workbook(io.BytesIO(ok_bytes(client.get(
        REWARDS, params={"year": 2026, "quarter": 3}, headers=auth("anweiban")))))
    assert empty["举报奖励清单"]["A2"].value == "合计"  # no reward row, the total alone
    assert client.get(REWARDS, params={"year": 2026, "quarter": 4},
                      headers=auth("insp_town")).status_code == 403
    assert client.get(REWARDS, params={"year": 2026, "quarter": 5},
                      headers=auth("anweiban")).status_code == 422


def ok_bytes(response) -> bytes:
    assert response.status_code == 200, response.text
    return response.content
