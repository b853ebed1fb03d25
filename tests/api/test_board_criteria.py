"""The board's count of major hazards by the 判定标准 clause they cite (GET /board/criteria)."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import Auth, report

URL = "/api/v1/board/criteria"


def entry(client: TestClient, auth: Auth, **params: Any) -> dict[str, Any]:
    [found] = client.get("/api/v1/criteria", params=params, headers=auth("ent_a")).json()[
        "items"]
    return found


def test_major_hazards_are_counted_by_document_and_clause(client: TestClient,
                                                          auth: Auth) -> None:
    dust = entry(client, auth, q="fcbz 框架")  # GM2023 第十一条（一）
    permit = entry(client, auth, q="特种作业人员未持证上岗")  # HG2017 item 2
    for cited in (dust, dust, permit):
        report(client, auth, "ent_a", level="major", criterion_id=str(cited["id"]))
    report(client, auth, "ent_a", level="major", major_clause="第四条（一）")  # as text
    report(client, auth, "ent_a")  # general: not counted

    response = client.get(URL, headers=auth("anweiban"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["uncited"]) == (4, 1)
    assert [(d["code"], d["count"]) for d in body["by_document"]] == [("GM2023", 2),
                                                                      ("HG2017", 1)]
    top, second = body["by_clause"]
    assert (top["criterion_id"], top["count"], top["citation"]) == (
        dust["id"], 2, "《工贸企业重大事故隐患判定标准》第十一条（一）")
    assert top["text"] == dust["text"] and top["in_force"] is True
    assert (second["criterion_id"], second["count"]) == (permit["id"], 1)
    assert set(body) >= {"from", "to", "region_id", "as_of"}
    # The inspector supervising the enterprise sees the same; an enterprise may not.
    assert client.get(URL, headers=auth("insp_dept")).json()["total"] == 4
    assert client.get(URL, headers=auth("ent_a")).status_code == 403
    assert client.get(URL).status_code == 401


def test_the_period_and_region_are_checked(client: TestClient, auth: Auth) -> None:
    assert client.get(URL, params={"from": "2026-12-31", "to": "2026-01-01"},
                      headers=auth("anweiban")).status_code == 422
    assert client.get(URL, params={"region_id": 10**9},
                      headers=auth("anweiban")).status_code == 404
    empty = client.get(URL, params={"from": "2001-01-01", "to": "2001-01-31"},
                       headers=auth("anweiban")).json()
    assert (empty["total"], empty["by_clause"]) == (0, [])
