"""The committee's board and ranking pages: the service's figures as tables (and charts),
each figure linking to the list of exactly the hazards it counts."""

import html
import re

import pytest

from app.web import board as board_pages
from tests.api.board_story import Story, build_story
from tests.web.test_idempotency import sign_in


@pytest.fixture
def story(client, auth, db, clock) -> Story:
    return build_story(client, auth, db, clock)


def row_cells(page: str, table_id: str, name: str) -> list[str]:
    """The cells (inner HTML) of the row headed `name` in the table `table_id`."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)[1]
    row = re.search(rf'<th scope="row">{name}</th>(.*?)</tr>', table, re.S)[1]
    return re.findall(r"<td>(.*?)</td>", row, re.S)


def link_and_count(cell: str) -> tuple[str, int]:
    match = re.fullmatch(r'<a href="([^"]+)">(\d+)</a>', cell.strip())
    assert match, cell
    return html.unescape(match[1]), int(match[2])


def card_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="card[^"]*">\s*<a href="/hazards/(\d+)">', page)]


def test_the_board_shows_hand_counted_figures_linked_to_their_lists(client, story) -> None:
    sign_in(client, "anweiban")
    page = client.get("/board", params={"level": "major", "from": "2026-10-01",
                                         "to": "2026-11-30"}).text
    # 城关镇 (the story's hand count): 1 open, 0 overdue, 0 listed, 1 open at the start,
    # 2 found (H4, H6), 2 closed (H1, H4), clearance 2 / 3.
    cells = row_cells(page, "table-township", "城关镇")
    assert [link_and_count(c)[1] for c in cells[:6]] == [1, 0, 0, 1, 2, 2]
    assert cells[6] == "66.7%"
    found_url, _ = link_and_count(cells[4])
    assert found_url.startswith("/hazards?")
    listed = client.get(found_url)
    assert listed.status_code == 200
    assert sorted(card_ids(listed.text)) == sorted([story.ids["H4"], story.ids["H6"]])
    # 清溪镇: H2 open, overdue and listed.
    assert [link_and_count(c)[1] for c in row_cells(page, "table-township", "清溪镇")[:3]] \
        == [1, 1, 1]
    overdue_url, _ = link_and_count(row_cells(page, "table-township", "清溪镇")[1])
    assert card_ids(client.get(overdue_url).text) == [story.ids["H2"]]
    trend = [link_and_count(c)[1] for c in row_cells(page, "table-trend", "2026-10")]
    assert trend == [1, 0, 3]  # October: H4 found, none closed, H1 H2 H4 open at its end


def test_charts_when_echarts_is_vendored_tables_alone_when_not(client, story, monkeypatch,
                                                              tmp_path) -> None:
    sign_in(client, "anweiban")
    fake = tmp_path / "echarts.min.js"
    fake.write_text("window.echarts = null;")
    monkeypatch.setattr(board_pages, "ECHARTS", fake)
    with_charts = client.get("/board").text
    assert 'id="chart-township"' in with_charts
    assert '<script src="/static/vendor/echarts.min.js" defer></script>' in with_charts
    assert 'id="board-charts"' in with_charts
    monkeypatch.setattr(board_pages, "ECHARTS", tmp_path / "missing.js")
    without = client.get("/board").text
    assert "图表组件未安装" in without
    assert "echarts" not in without
    assert 'id="table-township"' in without and 'id="table-trend"' in without


def test_the_ranking_page_shows_each_component_and_the_index(client, story) -> None:
    sign_in(client, "anweiban")
    page = client.get("/ranking", params={"month": "2026-10"}).text
    assert "亮晒排名 · 2026-10" in page
    town = row_cells(page, "ranking-table", "城关镇")
    assert '<tr><td>1</td><th scope="row">城关镇</th>' in page
    assert '<tr><td>2</td><th scope="row">清溪镇</th>' in page
    assert town[-1] == "<strong>46.67</strong>"
    assert row_cells(page, "ranking-table", "清溪镇")[-1] == "<strong>0.00</strong>"
    assert len(town) == 6  # five components, the index
    assert '<rect class="bar-fill" width="46.7"' in page  # the bar of the index
    assert "<script src=\"/static/vendor" not in page  # this page stays under 300 KB


def test_who_may_open_the_board_and_the_ranking(client, story) -> None:
    sign_in(client, "ent_a")
    assert client.get("/board").status_code == 403
    assert client.get("/ranking").status_code == 403
    client.cookies.clear()
    sign_in(client, "insp_town")
    assert client.get("/board").status_code == 200  # its own scope only
    assert client.get("/ranking").status_code == 403
    client.cookies.clear()
    assert client.get("/board", follow_redirects=False).headers["location"].startswith("/login")


def test_the_ranking_page_refuses_a_month_out_of_range(client, users) -> None:
    sign_in(client, "anweiban")
    for month in ("9999-12", "2100-01"):
        response = client.get("/ranking", params={"month": month})
        assert response.status_code in (400, 422), (month, response.status_code)
        assert "2099-12" in response.text  # says which months it takes


def test_the_board_shows_the_tips_figures_by_township(client, auth, db, clock) -> None:
    from tests.api.test_tips import NEAR_A, PHONE, tip, tip_id_of

    converted = tip_id_of(db, tip(client, phone=PHONE, **NEAR_A)["receipt"])
    tip(client, **NEAR_A)
    client.post(f"/api/v1/tips/{converted}/actions/convert",
                data={"title": "安全出口堵塞", "level": "general"}, headers=auth("anweiban"))
    client.post(f"/api/v1/tips/{converted}/reward", data={}, headers=auth("anweiban"))
    sign_in(client, "anweiban")
    page = client.get("/board").text
    cells = row_cells(page, "table-tips", "城关镇")
    # received, converted, merged, rejected, overdue, rewards decided, amount, paid, amount
    assert cells == ["2", "1", "0", "0", "0", "1", "500", "0", "0"]
    assert PHONE not in page
