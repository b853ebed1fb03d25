"""The menu and the buttons follow the access policy (app/access): each link is shown to
exactly the roles whose requests behind it succeed."""

import re

import pytest

from tests.api.helpers import act, ok, report
from tests.web.pages import User

MENU = {"/hazards/new": "上报隐患", "/notices": "督办单", "/board": "动态清零",
        "/ranking": "亮晒排名"}
# Who may open each page of the menu: the same roles the endpoints behind it answer.
EXPECTED = {
    "ent_a": {"/hazards/new", "/notices"},
    "insp_dept": {"/hazards/new", "/notices", "/board"},
    "anweiban": {"/hazards/new", "/notices", "/board", "/ranking"},
    "admin": {"/notices", "/board", "/ranking"},
}


def menu_links(html: str) -> set[str]:
    nav = re.search(r'<nav aria-label="主导航">(.*?)</nav>', html, re.S)
    assert nav, "no main navigation"
    return {href for href in MENU if f'href="{href}"' in nav.group(1)}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_the_menu_shows_what_the_role_may_open(app, username: str) -> None:
    user = User(app, username)
    shown = menu_links(user.get("/").text)
    assert shown == EXPECTED[username]
    for href in MENU:
        status = user.get(href).status_code
        assert (status == 200) == (href in shown), (href, status)


def test_the_listing_button_follows_the_listing_rule(app, client, auth) -> None:
    general = report(client, auth, "ent_a")["id"]
    major = report(client, auth, "ent_a", level="major", major_clause="第四条（一）")["id"]
    for hid in (general, major):
        ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": "2026-12-20"}))
    committee = User(app, "anweiban")
    assert f'href="/hazards/{general}/listing"' not in committee.get(f"/hazards/{general}").text
    assert f'href="/hazards/{major}/listing"' in committee.get(f"/hazards/{major}").text
    # What the page hides, the service refuses.
    assert client.post(f"/api/v1/hazards/{general}/listing", headers=auth("anweiban"), data={
        "level": "county", "authority": "演示县安委办",
        "document_number": "演安委〔2026〕12号"}).status_code == 409
