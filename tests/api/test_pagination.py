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
