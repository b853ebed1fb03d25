"""The rules of the loop (docs/domain.md): a listed hazard ends only once delisted (摘牌
first, its own decision on record), the board never counts an ended hazard as listed, and a
major hazard is reported with its basis: the clause it matches, or an assessment's."""

from sqlalchemy import update

from app.models import Hazard
from tests.api.helpers import act, in_days, ok, report
from tests.api.test_dossier import LISTING, evaluate, listed_and_rectified
from tests.samples import photo


def board_listed(client, auth) -> int:
    board = client.get("/api/v1/board", headers=auth("anweiban"))
    assert board.status_code == 200, board.text
    return board.json()["totals"]["listed"]["count"]


def listed_ids(client, auth) -> set[int]:
    page = client.get("/api/v1/hazards", params={"listed": "true", "limit": 200},
                      headers=auth("anweiban")).json()
    return {h["id"] for h in page["items"]}


def test_a_listed_hazard_is_closed_only_after_delisting(client, auth) -> None:
    hid = listed_and_rectified(client, auth)
    assert evaluate(client, auth, hid).status_code == 200
    ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    ok(act(client, auth, "anweiban", hid, "spot_check", {"note": "抽查合格"}, photos=1))
    refused = act(client, auth, "anweiban", hid, "close", {"note": "销号"})
    assert refused.status_code == 409, refused.text
    assert "摘牌" in refused.json()["detail"]
    assert board_listed(client, auth) == 1 and hid in listed_ids(client, auth)
    delisted = client.post(f"/api/v1/hazards/{hid}/delisting", data={"note": "整改验收合格，摘牌"},
                           headers=auth("anweiban"))
    assert delisted.status_code == 200, delisted.text
    closed = ok(act(client, auth, "anweiban", hid, "close", {"note": "销号"}))
    assert closed["state"] == "closed" and closed["listing"] is None
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=auth("anweiban")).json()
    assert [e["action"] for e in events][-2:] == ["delisting", "close"]
    dossier = client.get(f"/api/v1/hazards/{hid}/dossier", headers=auth("anweiban")).json()
    assert dossier["write_off"] is not None
    assert board_listed(client, auth) == 0 and hid not in listed_ids(client, auth)


def test_a_listed_reported_hazard_is_not_rejected_before_delisting(client, auth) -> None:
    hid = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    assert client.post(f"/api/v1/hazards/{hid}/listing", data=LISTING,
                       headers=auth("anweiban")).status_code == 200
    refused = act(client, auth, "anweiban", hid, "reject", {"reason": "重复上报"})
    assert refused.status_code == 409 and "摘牌" in refused.json()["detail"]
    # Assigning is not ending: the listed hazard goes on through the loop.
    ok(act(client, auth, "anweiban", hid, "assign", {"deadline": in_days(10)}))


def test_the_board_never_counts_an_ended_hazard_as_listed(client, auth, db) -> None:
    """A hazard ended while listed before the rule existed (or by a database edit)."""
    hid = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    assert client.post(f"/api/v1/hazards/{hid}/listing", data=LISTING,
                       headers=auth("anweiban")).status_code == 200
    assert board_listed(client, auth) == 1
    for state in ("closed", "rejected"):
        db.execute(update(Hazard).where(Hazard.id == hid).values(state=state))
        db.flush()
        db.expire_all()
        assert board_listed(client, auth) == 0, state
        assert hid not in listed_ids(client, auth), state
        page = client.get("/api/v1/hazards", params={"listed": "false", "limit": 200},
                          headers=auth("anweiban")).json()
        assert hid in {h["id"] for h in page["items"]}, state


REPORT = {"title": "冲压机防护罩缺失", "description": "冲压机防护罩拆除后未恢复",
          "location": "一号车间", "level": "major"}


def post_report(client, auth, username: str = "ent_a", **fields: str):
    return client.post("/api/v1/hazards", data={**REPORT, **fields}, files=[photo()],
                       headers=auth(username))


def hazard_count(client, auth) -> int:
    return len(client.get("/api/v1/hazards", params={"limit": 200},
                          headers=auth("anweiban")).json()["items"])


def test_a_major_hazard_without_a_basis_is_refused(client, auth) -> None:
    before = hazard_count(client, auth)
    for blank in ({}, {"major_clause": "  ", "major_basis": " "}):
        refused = post_report(client, auth, **blank)
        assert refused.status_code == 422, refused.text
        message = refused.json()["detail"][0]["msg"]
        assert all(name in message for name in ("major_clause", "criterion_id", "major_basis"))
    assert hazard_count(client, auth) == before
    assert post_report(client, auth, level="general").status_code == 201  # no basis needed


def test_a_major_hazard_names_its_clause_its_criterion_or_an_assessment(client, auth) -> None:
    assert post_report(client, auth, major_clause="工贸 第四条（一）").status_code == 201
    entry = client.get("/api/v1/criteria", params={"q": "特种作业人员"},
                       headers=auth("ent_a")).json()["items"][0]
    cited = post_report(client, auth, criterion_id=str(entry["id"]))
    assert cited.status_code == 201, cited.text
    basis = "涉及粉尘爆炸危险，整改需停产，危害和整改难度大"
    assessed = post_report(client, auth, major_basis=basis)
    assert assessed.status_code == 201, assessed.text
    hazard = assessed.json()
    assert hazard["major_clause"] == f"经评估认定：{basis}"
    events = client.get(f"/api/v1/hazards/{hazard['id']}/events", headers=auth("ent_a")).json()
    assert events[0]["data"]["major_basis"] == basis
    dossier = client.get(f"/api/v1/hazards/{hazard['id']}/dossier", headers=auth("ent_a")).json()
    assert dossier["criterion"]["major_clause"].startswith("经评估认定：")
    too_long = post_report(client, auth, major_basis="很" * 481)
    assert too_long.status_code == 422
