"""Keyset cursor pagination: complete, without duplicates, stable while rows are inserted."""

from tests.api.helpers import report


def test_pages_cover_everything_once_even_with_inserts(client, auth) -> None:
    created = [report(client, auth, "ent_a", title=f"隐患{i}")["id"] for i in range(7)]
    seen: list[int] = []
    cursor = None
    inserted_midway = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/hazards", params=params, headers=auth("ent_a")).json()
        seen += [item["id"] for item in page["items"]]
        if inserted_midway is None:
            inserted_midway = report(client, auth, "ent_a", title="翻页中新增")["id"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)  # newest first, none twice, none missed
    assert inserted_midway not in seen
    first = client.get("/api/v1/hazards", params={"limit": 1}, headers=auth("ent_a")).json()
    assert first["items"][0]["id"] == inserted_midway


def test_bad_cursor_and_limit_are_422(client, auth) -> None:
    for params in ({"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 10_000}):
        response = client.get("/api/v1/hazards", params=params, headers=auth("ent_a"))
        assert response.status_code == 422


def test_list_items_are_the_hazards_as_read_one_by_one(client, auth) -> None:
    """The list is serialized on its own path: each item must still be exactly the hazard's
    own representation (same fields, photos and assignments), as JSON."""
    report(client, auth, "ent_a", title="较早的隐患")
    hazard_id = report(client, auth, "ent_a", title="列表与详情一致", photos=2)["id"]
    response = client.get("/api/v1/hazards", params={"limit": 1}, headers=auth("ent_a"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    page = response.json()
    single = client.get(f"/api/v1/hazards/{hazard_id}", headers=auth("ent_a")).json()
    assert page["items"] == [single]
    assert len(page["items"][0]["photos"]) == 2
    assert page["next_cursor"] is not None  # the earlier hazard is on the next page
