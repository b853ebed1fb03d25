"""Inputs are bounded: dates an action sets, ids, months, search text (docs/api.md).

A value out of range answers 422 saying the range, never 500 and never a stalled worker.
"""

from datetime import date

from tests.api.helpers import PLAN, TODAY, act, in_days, ok, report
from tests.samples import photo

LATEST = date(TODAY.year + 3, TODAY.month, TODAY.day).isoformat()  # today + 3 years


def _assigned(client, auth, level: str = "general") -> int:
    clause = "工贸行业重大事故隐患判定标准 第四条第（一）项"
    extra = {"major_clause": clause} if level == "major" else {}
    hazard = report(client, auth, "ent_a", level=level, **extra)
    ok(act(client, auth, "insp_dept", hazard["id"], "assign", {"deadline": in_days(7)}))
    return hazard["id"]


def _refused_with_range(response, field: str) -> None:
    assert response.status_code == 422, response.text
    problem = next(p for p in response.json()["detail"] if p["loc"][-1] == field)
    assert problem["type"] == "date_range"
    assert TODAY.isoformat() in problem["msg"] and LATEST in problem["msg"], problem


def test_assign_deadline_is_today_to_three_years_ahead(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    for far in ("9999-12-31", "2030-01-01", in_days(3 * 366)):
        _refused_with_range(act(client, auth, "insp_dept", hid, "assign", {"deadline": far}),
                            "deadline")
    _refused_with_range(act(client, auth, "insp_dept", hid, "assign",
                            {"deadline": in_days(-1)}), "deadline")
    assigned = ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": LATEST}))
    assert assigned["deadline"] == LATEST


def test_return_deadline_is_bounded(client, auth) -> None:
    hid = _assigned(client, auth)
    ok(act(client, auth, "ent_a", hid, "accept"))
    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已整改"}, photos=1))
    _refused_with_range(act(client, auth, "insp_dept", hid, "return",
                            {"reason": "未整改到位", "deadline": "9999-12-31"}, photos=1),
                        "deadline")
    returned = ok(act(client, auth, "insp_dept", hid, "return",
                      {"reason": "未整改到位", "deadline": in_days(30)}, photos=1))
    assert returned["deadline"] == in_days(30)


def test_major_plan_deadline_is_bounded(client, auth) -> None:
    hid = _assigned(client, auth, level="major")
    _refused_with_range(act(client, auth, "ent_a", hid, "accept",
                            {**PLAN, "plan_deadline": "9999-12-31"}), "plan_deadline")
    ok(act(client, auth, "ent_a", hid, "accept", PLAN))


def test_extension_deadline_is_bounded(client, auth) -> None:
    hid = _assigned(client, auth)
    ok(act(client, auth, "ent_a", hid, "accept"))
    url = f"/api/v1/hazards/{hid}/extensions"
    body = {"reason": "备件未到", "interim_measures": "设置警戒区"}
    _refused_with_range(client.post(url, data={**body, "deadline": "9999-12-31"},
                                    headers=auth("ent_a")), "deadline")
    created = client.post(url, data={**body, "deadline": LATEST}, headers=auth("ent_a"))
    assert created.status_code == 201, created.text


def test_ranking_month_out_of_range_answers_422(client, auth) -> None:
    for month in ("9999-12", "2100-01", "1999-12", "0000-01", "2026-13"):
        response = client.get("/api/v1/board/ranking", params={"month": month},
                              headers=auth("anweiban"))
        assert response.status_code == 422, (month, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", "month"]
    assert client.get("/api/v1/board/ranking", params={"month": "2026-10"},
                      headers=auth("anweiban")).status_code == 200


HUGE = 1180591620717411303424  # 2**70: beyond even SQLite's 64-bit integers


def _refused_as_field(response, field: str, words: str) -> None:
    assert response.status_code == 422, response.text
    problems = [p for p in response.json()["detail"] if p["loc"] == ["body", field]]
    assert problems and words in problems[0]["msg"], response.json()


def test_ids_sent_as_fields_are_bounded_to_the_databases_range(client, auth) -> None:
    hid = report(client, auth, "ent_a")["id"]
    for unit_id, words in ((HUGE, "2147483647"), (2**31, "2147483647"), (2**63, "2147483647"),
                           (0, "不小于 1"), (-1, "不小于 1")):
        _refused_as_field(act(client, auth, "insp_dept", hid, "assign",
                              {"deadline": in_days(7), "supervising_unit_id": unit_id}),
                          "supervising_unit_id", words)
    report_fields = {"title": "t", "description": "d", "location": "l", "level": "major",
                     "major_clause": "第四条（一）"}
    ent_a = client.get("/api/v1/me", headers=auth("ent_a")).json()["enterprise_id"]
    cited = client.post("/api/v1/hazards", headers=auth("insp_dept"), files=[photo()],
                        data={**report_fields, "enterprise_id": ent_a, "criterion_id": HUGE})
    _refused_as_field(cited, "criterion_id", "2147483647")
    # An enterprise id out of range is an unknown enterprise: the same 422 as for any other.
    unknown = [client.post("/api/v1/hazards", headers=auth("insp_dept"), files=[photo()],
                           data={**report_fields, "enterprise_id": wanted}).json()
               for wanted in (HUGE, 987654)]
    assert unknown[0] == unknown[1] and unknown[0]["detail"][0]["loc"] == ["body", "enterprise_id"]
    webhook = client.post("/api/v1/webhooks", headers=auth("admin"),
                          json={"url": "https://example.org/hook", "region_id": HUGE})
    assert webhook.status_code == 422, webhook.text
    assert webhook.json()["detail"][0]["loc"] == ["body", "region_id"]
    # Ids in the path name what is asked for: out of range they are unknown, like any other.
    for path in (f"/api/v1/hazards/{HUGE}", f"/api/v1/hazards/{hid}/extensions/{HUGE}/decision"):
        method = client.get if path.endswith(str(HUGE)) else client.post
        assert method(path, headers=auth("insp_dept")).status_code == 404, path


def test_side_actions_notes_are_bounded(client, auth) -> None:
    hid = _assigned(client, auth, level="major")
    committee = auth("anweiban")
    long_note = "很" * 2001
    interview = client.post(f"/api/v1/hazards/{hid}/interviews", headers=committee,
                            data={"kind": "约谈", "document": "约〔2026〕1号", "note": long_note})
    _refused_as_field(interview, "note", "2000")
    document = client.post(f"/api/v1/hazards/{hid}/interviews", headers=committee,
                           data={"kind": "约谈", "document": "号" * 201})
    _refused_as_field(document, "document", "200")
    assert client.post(f"/api/v1/hazards/{hid}/listing", headers=committee, data={
        "level": "county", "authority": "演示县安委办", "document_number": "演安委〔2026〕10号",
    }).status_code == 200
    _refused_as_field(client.post(f"/api/v1/hazards/{hid}/delisting", headers=committee,
                                  data={"note": long_note}), "note", "2000")
    ok(act(client, auth, "ent_a", hid, "accept", PLAN))
    ext = client.post(f"/api/v1/hazards/{hid}/extensions", headers=auth("ent_a"),
                      data={"deadline": in_days(20), "reason": "r", "interim_measures": "m"})
    assert ext.status_code == 201, ext.text
    decision = client.post(f"/api/v1/hazards/{hid}/extensions/{ext.json()['id']}/decision",
                           headers=auth("insp_dept"),
                           data={"decision": "approve", "note": long_note})
    _refused_as_field(decision, "note", "2000")
    events = client.get(f"/api/v1/hazards/{hid}/events", headers=committee).json()
    assert [e["action"] for e in events].count("interview") == 0  # nothing was kept
