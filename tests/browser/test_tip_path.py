"""A public tip's whole path in a real browser: a passer-by's phone sends it without an
account, the committee triages it on its pages and converts it, the loop runs (through the
API, as in any hazard's test), and the tipster's status page reads 已办结 — the enterprise never
seeing the tipster's phone."""

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from app.services.org.demo import DEMO_PASSWORD
from tests.browser.photos import phone_photo

PHONE_NUMBER = "13900002222"


class Staff:
    """The demo users through the JSON API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}
        self.closed = False

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            token = httpx.post(f"{self.base}/api/v1/auth/token",
                               data={"username": username, "password": DEMO_PASSWORD})
            assert token.status_code == 200, token.text
            self.tokens[username] = token.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def may_close(self, hazard_id: int) -> bool:
        """Try the write-off: 409 while a drawn spot check is pending."""
        response = httpx.post(f"{self.base}/api/v1/hazards/{hazard_id}/actions/close",
                              data={"note": "闭环"}, headers=self.headers("anweiban"))
        assert response.status_code in (200, 409), response.text
        self.closed = response.status_code == 200
        return self.closed

    def act(self, username: str, hazard_id: int, action: str, fields: dict[str, str],
            photo: Path | None = None) -> dict:
        files = [("photos", (photo.name, photo.read_bytes(), "image/jpeg"))] if photo else None
        response = httpx.post(f"{self.base}/api/v1/hazards/{hazard_id}/actions/{action}",
                              data=fields, files=files, headers=self.headers(username),
                              timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def test_a_tip_from_the_page_to_closed_and_the_tipster_reads_it(phone, live_server, tmp_path,
                                                               artifacts) -> None:
    tipster = phone()
    tipster.goto("/tip")
    tipster.get_by_label("现场照片").set_input_files(str(phone_photo(tmp_path, "t.jpg", 61)))
    tipster.get_by_label("发现了什么问题").fill("冲压车间安全出口被成品堆死")
    tipster.get_by_label("在哪里").fill("演示机械制造厂区二号门")
    tipster.get_by_label("企业名称（选填）").fill("演示机械制造")
    tipster.get_by_label("联系电话（选填）").fill(PHONE_NUMBER)
    tipster.get_by_role("button", name="提交举报").click()
    tipster.wait_for_url(re.compile(r"/tip/status/[\w-]+$"))
    receipt = tipster.locator("#receipt").inner_text()
    expect(tipster.get_by_text("已受理，核查中")).to_be_visible()

    committee = phone("anweiban")
    committee.get_by_role("link", name="群众举报").click()
    committee.locator("#table-tip-list").get_by_role("link").first.click()
    expect(committee.locator("#tip-phone")).to_have_text(PHONE_NUMBER)
    convert = committee.locator("#form-convert")
    convert.get_by_label("所在企业").select_option(label="演示机械制造有限公司")
    convert.get_by_label("隐患名称").fill("安全出口堵塞")
    convert.get_by_label("一般事故隐患").check()
    committee.screenshot(path=str(artifacts / "tip-triage.png"), full_page=True)
    convert.get_by_role("button", name="转为隐患并交办").click()
    committee.wait_for_url(re.compile(r"/hazards/\d+$"))
    hazard_id = int(committee.url.rsplit("/", 1)[1])
    tipster.reload()
    expect(tipster.get_by_text("已交办整改", exact=True)).to_be_visible()

    staff = Staff(live_server)
    staff.act("insp_dept", hazard_id, "assign", {"deadline_days": "5"})
    staff.act("ent_a", hazard_id, "accept", {})
    staff.act("ent_a", hazard_id, "submit", {"note": "已清理出口"},
              phone_photo(tmp_path, "after.jpg", 62))
    staff.act("insp_dept", hazard_id, "verify", {"note": "合格"},
              phone_photo(tmp_path, "verify.jpg", 63))
    if not staff.may_close(hazard_id):  # drawn for a spot check (the server's policy)
        staff.act("anweiban", hazard_id, "spot_check", {"note": "抽查合格"},
                  phone_photo(tmp_path, "check.jpg", 64))
    if not staff.closed:
        assert staff.act("anweiban", hazard_id, "close", {"note": "闭环"})["state"] == "closed"

    tipster.goto(f"/tip/status/{receipt}")
    expect(tipster.get_by_text("已办结", exact=True)).to_be_visible()
    page_text = tipster.content()
    for hidden in ("演示机械制造有限公司", "insp_dept", "anweiban", "城关镇监管员"):
        assert hidden not in page_text
    tipster.screenshot(path=str(artifacts / "tip-closed.png"), full_page=True)

    enterprise = phone("ent_a")
    enterprise.goto(f"/hazards/{hazard_id}")
    expect(enterprise.locator("#hazard-state")).to_have_text("已销号")
    assert PHONE_NUMBER not in enterprise.content() and receipt not in enterprise.content()
    assert enterprise.goto("/tips").status == 403 or "群众举报" not in enterprise.content()
