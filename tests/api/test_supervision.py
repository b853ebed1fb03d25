"""双重督办 over HTTP, with the worker's per-hazard step run directly on the test session."""

from datetime import date, timedelta

from chinese_calendar import constants as calendar_data
from sqlalchemy.orm import Session

from app.core.clock import FixedClock, local_today
from app.models import Unit
from app.services.supervision.scans import _recompute, supervise_hazard
from app.workflow.deadlines import calendar_changed
from tests.api.helpers import act, in_days, ok, report

WEDNESDAY = date(2026, 11, 25)  # START is Monday 2026-11-23


def assigned(client, auth, deadline: str = "2026-11-25", username: str = "ent_a",
             **fields: str) -> int:
    hid = report(client, auth, username, **fields)["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": deadline}))
    return hid


def run_worker(db: Session, clock: FixedClock, hazard_id: int) -> list[str]:
    return supervise_hazard(db, hazard_id, now=clock.now(), today=local_today(clock))


def events(client, auth, hid: int, username: str = "anweiban") -> list[dict]:
    return client.get(f"/api/v1/hazards/{hid}/events", headers=auth(username)).json()


def at_day(clock: FixedClock, day: date) -> None:
    clock.advance(timedelta(days=(day - local_today(clock)).days))


def test_assign_in_working_days(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    # Monday + 5 working days → next Monday.
    hazard = ok(act(client, auth, "insp_dept", hid, "assign",
                    {"deadline_days": 5, "deadline_unit": "working"}))
    assert hazard["deadline"] == "2026-11-30"
    assert hazard["deadline_provisional"] is False
    other = report(client, auth, "ent_a")["id"]
    assert act(client, auth, "insp_dept", other, "assign", {}).status_code == 422


def test_reminder_then_notices_then_escalation_each_exactly_once(client, auth, db, clock) -> None:
    hid = assigned(client, auth)
    assert run_worker(db, clock, hid) == ["reminder"]  # 2 working days before the deadline
    assert run_worker(db, clock, hid) == []
    at_day(clock, date(2026, 11, 26))
    assert run_worker(db, clock, hid) == ["overdue"]
    assert run_worker(db, clock, hid) == []
    at_day(clock, date(2026, 12, 2))  # 5 working days overdue: 约谈/通报 due (general)
    assert run_worker(db, clock, hid) == ["escalate:interview"]
    assert run_worker(db, clock, hid) == []
    actions = [e["action"] for e in events(client, auth, hid)]
    assert actions.count("remind") == actions.count("supervision_notice") == 1
    assert actions.count("escalate") == 1
    hazard = client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()
    assert hazard["overdue"] and hazard["was_overdue"]


def test_both_sides_get_numbered_notices_at_once(client, auth, db, clock, users) -> None:
    hid = assigned(client, auth)
    at_day(clock, date(2026, 11, 27))
    run_worker(db, clock, hid)
    department = db.query(Unit).filter_by(name="演示县应急管理局").one()
    township = db.query(Unit).filter_by(name="城关镇安全生产办公室").one()
    notice_event = next(e for e in events(client, auth, hid) if e["action"] ==
                        "supervision_notice")
    recipients = {(n["recipient_type"], n["recipient_id"]) for n in notice_event["data"]["notices"]}
    assert recipients == {("enterprise", users["ent_a"].enterprise_id),
                          ("unit", department.id), ("unit", township.id)}
    assert notice_event["from_state"] == notice_event["to_state"] == "assigned"
    assert notice_event["actor_role"] == "system"
    numbers = [n["number"] for n in notice_event["data"]["notices"]]
    assert len(set(numbers)) == 3
    assert all(n.startswith("督办〔2026〕第") and n.endswith("号") for n in numbers)
    mine = client.get("/api/v1/notices", headers=auth("ent_a")).json()
    assert [n["hazard_id"] for n in mine] == [hid]
    assert mine[0]["days_overdue"] == 2
    assert len(client.get("/api/v1/notices", headers=auth("insp_dept")).json()) == 1
    assert len(client.get("/api/v1/notices", headers=auth("insp_town")).json()) == 1
    assert client.get("/api/v1/notices", headers=auth("ent_b")).json() == []
    assert len(client.get("/api/v1/notices", headers=auth("anweiban")).json()) == 3
    inbox = client.get("/api/v1/inbox", headers=auth("ent_a")).json()
    assert any(m["kind"] == "supervision_notice" for m in inbox)


def test_a_missed_run_catches_up_without_a_stale_reminder(client, auth, db, clock) -> None:
    hid = assigned(client, auth)
    at_day(clock, date(2026, 12, 3))
    assert run_worker(db, clock, hid) == ["overdue", "escalate:interview"]
    assert run_worker(db, clock, hid) == []


def test_major_hazards_escalate_to_listing(client, auth, db, clock) -> None:
    hid = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": "2026-11-25"}))
    at_day(clock, date(2026, 11, 30))  # 3 working days overdue
    assert run_worker(db, clock, hid) == ["overdue", "escalate:interview", "escalate:listing"]


def test_acknowledgement_is_only_for_the_recipient(client, auth, db, clock) -> None:
    hid = assigned(client, auth)
    at_day(clock, date(2026, 11, 26))
    run_worker(db, clock, hid)
    notice = client.get("/api/v1/notices", headers=auth("ent_a")).json()[0]
    for stranger in ("ent_b", "insp_dept", "anweiban", "admin"):
        response = client.post(f"/api/v1/notices/{notice['id']}/ack", headers=auth(stranger))
        assert response.status_code == 404, stranger
    acked = client.post(f"/api/v1/notices/{notice['id']}/ack", headers=auth("ent_a"))
    assert acked.status_code == 200
    assert acked.json()["acknowledged_at"] is not None
    again = client.post(f"/api/v1/notices/{notice['id']}/ack", headers=auth("ent_a"))
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    assert [e["action"] for e in events(client, auth, hid)].count("notice_ack") == 1


def test_extension_approved_moves_the_deadline_and_keeps_the_overdue_record(
        client, auth, db, clock) -> None:
    hid = assigned(client, auth)
    ok(act(client, auth, "ent_a", hid, "accept"))
    at_day(clock, date(2026, 11, 26))
    run_worker(db, clock, hid)
    request = {"deadline": "2026-12-10", "reason": "需停产更换设备，备件未到",
               "interim_measures": "设置警戒区并专人值守"}
    created = client.post(f"/api/v1/hazards/{hid}/extensions", data=request,
                          headers=auth("ent_a"))
    assert created.status_code == 201, created.text
    ext = created.json()
    assert client.post(f"/api/v1/hazards/{hid}/extensions", data=request,
                       headers=auth("ent_a")).status_code == 409
    assert client.post(f"/api/v1/hazards/{hid}/extensions/{ext['id']}/decision",
                       data={"decision": "approve"}, headers=auth("ent_a")).status_code == 403
    decided = client.post(f"/api/v1/hazards/{hid}/extensions/{ext['id']}/decision",
                          data={"decision": "approve", "note": "同意"}, headers=auth("insp_town"))
    assert decided.status_code == 200, decided.text
    hazard = client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()
    assert hazard["deadline"] == "2026-12-10"
    assert {a["deadline"] for a in hazard["assignments"]} == {"2026-12-10"}
    assert hazard["overdue"] is False and hazard["was_overdue"] is True
    history = client.get(f"/api/v1/hazards/{hid}/extensions", headers=auth("ent_a")).json()
    assert [(h["current_deadline"], h["requested_deadline"], h["status"]) for h in history] == \
        [("2026-11-25", "2026-12-10", "approved")]
    approve = next(e for e in events(client, auth, hid) if e["action"] == "extension_approve")
    assert approve["data"]["deadline"] == {"from": "2026-11-25", "to": "2026-12-10"}
    # The new deadline starts its own reminders; the old notices stay on record.
    assert len(client.get("/api/v1/notices", headers=auth("ent_a")).json()) == 1


def test_extension_refused_keeps_the_deadline(client, auth) -> None:
    hid = assigned(client, auth, deadline=in_days(3))
    ok(act(client, auth, "ent_a", hid, "accept"))
    ext = client.post(f"/api/v1/hazards/{hid}/extensions",
                      data={"deadline": in_days(20), "reason": "r", "interim_measures": "m"},
                      headers=auth("ent_a")).json()
    refused = client.post(f"/api/v1/hazards/{hid}/extensions/{ext['id']}/decision",
                          data={"decision": "refuse", "note": "理由不充分"},
                          headers=auth("insp_dept"))
    assert refused.json()["status"] == "refused"
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()["deadline"] == \
        in_days(3)
    assert client.post(f"/api/v1/hazards/{hid}/extensions",
                       data={"deadline": in_days(1), "reason": "r", "interim_measures": "m"},
                       headers=auth("ent_a")).status_code == 422  # not later than the deadline
    assert client.get(f"/api/v1/hazards/{hid}/extensions",
                      headers=auth("ent_b")).status_code == 404


def test_committee_records_interview_listing_and_delisting(client, auth) -> None:
    hid = assigned(client, auth, level="major", major_clause="第四条（一）")
    assert client.post(f"/api/v1/hazards/{hid}/interviews",
                       data={"kind": "约谈", "document": "演安委办约〔2026〕3号"},
                       headers=auth("insp_dept")).status_code == 403
    assert client.post(f"/api/v1/hazards/{hid}/interviews",
                       data={"kind": "约谈", "document": "演安委办约〔2026〕3号"},
                       headers=auth("anweiban")).status_code == 200
    listing = {"level": "county", "authority": "演示县安委办",
               "document_number": "演安委〔2026〕9号"}
    listed = client.post(f"/api/v1/hazards/{hid}/listing", data=listing,
                         headers=auth("anweiban"))
    assert listed.json()["listing"]["document_number"] == "演安委〔2026〕9号"
    assert client.post(f"/api/v1/hazards/{hid}/listing", data=listing,
                       headers=auth("anweiban")).status_code == 409
    delisted = client.post(f"/api/v1/hazards/{hid}/delisting", headers=auth("anweiban"))
    assert delisted.json()["listing"] is None
    actions = [e["action"] for e in events(client, auth, hid)]
    assert actions[-3:] == ["interview", "listing", "delisting"]


def test_a_provisional_deadline_is_recomputed_when_the_calendar_knows_the_year(
        client, auth, db, clock, monkeypatch) -> None:
    at_day(clock, date(2026, 12, 28))  # Monday; 2027's holidays are not yet known
    hid = report(client, auth, "ent_a")["id"]
    hazard = ok(act(client, auth, "insp_dept", hid, "assign",
                    {"deadline_days": 5, "deadline_unit": "working"}))
    # 29, 30, 31 December, (1 January, 元旦, assumed off), 4 and 5 January.
    assert (hazard["deadline"], hazard["deadline_provisional"]) == ("2027-01-05", True)
    assert not _recompute(db, hid, clock.now())  # nothing new to count with

    # As if 2027's holidays were published: 1 January and, say, Monday 4 January off.
    for day in (date(2027, 1, 1), date(2027, 1, 4)):
        monkeypatch.setitem(calendar_data.holidays, day, "New Year's Day")
    calendar_changed()
    try:
        assert _recompute(db, hid, clock.now())
    finally:
        monkeypatch.undo()
        calendar_changed()
    hazard = client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()
    assert (hazard["deadline"], hazard["deadline_provisional"]) == ("2027-01-06", False)
    assert {a["deadline"] for a in hazard["assignments"]} == {"2027-01-06"}
    last = events(client, auth, hid)[-1]
    assert last["action"] == "deadline_recomputed"
    assert last["data"]["deadline"] == {"from": "2027-01-05", "to": "2027-01-06"}


def test_listed_hazards_are_on_the_committees_list_until_delisted(client, auth) -> None:
    listed = assigned(client, auth, level="major", major_clause="第四条（一）")
    other = assigned(client, auth)
    assert client.post(f"/api/v1/hazards/{listed}/listing", data={
        "level": "county", "authority": "演示县安委办", "document_number": "演安委〔2026〕10号"},
        headers=auth("anweiban")).status_code == 200

    def ids(**params: str) -> set[int]:
        page = client.get("/api/v1/hazards", params=params, headers=auth("anweiban")).json()
        return {h["id"] for h in page["items"]}

    assert listed in ids(listed="true") and other not in ids(listed="true")
    assert other in ids(listed="false") and listed not in ids(listed="false")
    client.post(f"/api/v1/hazards/{listed}/delisting", headers=auth("anweiban"))
    assert listed not in ids(listed="true") and listed in ids(listed="false")


LISTING = {"level": "county", "authority": "演示县安委办", "document_number": "演安委〔2026〕11号"}


def test_only_an_open_major_or_escalated_hazard_is_listed(client, auth, db, clock) -> None:
    general = assigned(client, auth)
    assert client.post(f"/api/v1/hazards/{general}/listing", data=LISTING,
                       headers=auth("anweiban")).status_code == 409
    rejected = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    ok(act(client, auth, "insp_dept", rejected, "reject", {"reason": "重复上报"}))
    assert client.post(f"/api/v1/hazards/{rejected}/listing", data=LISTING,
                       headers=auth("anweiban")).status_code == 409
    # 15 working days overdue, the ladder takes a general hazard to listing.
    at_day(clock, date(2026, 12, 17))
    assert "escalate:listing" in run_worker(db, clock, general)
    assert client.post(f"/api/v1/hazards/{general}/listing", data=LISTING,
                       headers=auth("anweiban")).status_code == 200
