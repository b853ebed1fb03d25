"""The whole loop through the pages on a phone, by three users: ent_a reports and rectifies,
insp_dept assigns and verifies, anweiban spot-checks and writes off."""

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.photos import phone_photo, plain_photo


def in_days(n: int) -> str:
    return (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=n)).isoformat()


def open_from_queue(page: Page, queue: str, code: str) -> None:
    """From the home page, open the hazard listed in the named queue."""
    page.goto("/")
    section = page.locator("section.queue").filter(
        has=page.get_by_role("heading", name=re.compile(f"^{queue}")))
    section.get_by_role("link", name=re.compile(code)).click()
    page.wait_for_url(re.compile(r"/hazards/\d+$"))


def take(page: Page, action: str, fields: dict[str, str], photos: list[Path] = ()) -> None:
    """Open the action's form from the hazard page, fill it in, send it, land back."""
    page.get_by_role("link", name=action, exact=True).click()
    if photos:
        page.get_by_label("照片").set_input_files([str(p) for p in photos])
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name=f"确认{action}").click()
    page.wait_for_url(re.compile(r"/hazards/\d+$"))


def state(page: Page) -> str:
    return page.locator("#hazard-state").inner_text()


def test_report_to_write_off_by_three_users(phone, artifacts, tmp_path) -> None:
    ent = phone("ent_a")
    # 上报: from the home page, one form, then the hazard's page (at most 3 screens).
    screens = []
    ent.on("framenavigated", lambda frame: frame == ent.main_frame and screens.append(frame.url))
    ent.get_by_role("link", name="拍照上报隐患").click()
    camera = ent.get_by_label("现场照片")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("multiple") is not None
    scene = phone_photo(tmp_path, "scene.jpg", seed=1)
    camera.set_input_files([str(scene)])
    expect(ent.locator(".preview img")).to_have_count(1)
    ent.get_by_label("隐患名称").fill("冲压机光电保护失效")
    ent.get_by_label("所在位置").fill("一号车间冲压线")
    ent.get_by_label("隐患描述").fill("3 号冲压机光电保护装置被短接，操作人员手部可进入危险区")
    clause = ent.get_by_label("重大隐患判定依据")
    expect(clause).to_be_hidden()
    ent.get_by_label("重大事故隐患").check()
    expect(clause).to_be_visible()
    clause.fill("工贸行业重大事故隐患判定标准 第四条")
    ent.get_by_role("button", name="上报").click()
    ent.wait_for_url(re.compile(r"/hazards/\d+$"))
    assert len(screens) <= 3, screens
    hazard_url = ent.url
    code = ent.locator("dt:text('编号') + dd").inner_text()
    assert state(ent) == "已上报"
    # The original bytes were sent: the served original has the file's SHA-256.
    original = ent.request.get(ent.locator("a.orig").first.get_attribute("href"))
    assert hashlib.sha256(original.body()).hexdigest() == \
        hashlib.sha256(scene.read_bytes()).hexdigest()

    insp = phone("insp_dept")
    open_from_queue(insp, "待交办", code)
    take(insp, "交办", {"整改期限": in_days(10)})
    assert state(insp) == "已交办"

    open_from_queue(ent, "待签收", code)
    take(ent, "签收整改", {"责任人": "张建国（生产副总）", "整改措施": "恢复光电保护并加装双手按钮",
                       "整改资金（元）": "12000", "整改时限": in_days(8),
                       "应急预案": "停用 3 号冲压机，设警戒区"})
    assert state(ent) == "整改中"
    ent.goto("/")
    ent.screenshot(path=str(artifacts / "home-enterprise.png"), full_page=True)
    open_from_queue(ent, "整改中", code)
    take(ent, "整改完成", {"整改情况": "已拆除短接线，光电保护恢复，加装双手按钮"},
         [phone_photo(tmp_path, "after.jpg", seed=2)])
    assert state(ent) == "待验收"

    open_from_queue(insp, "待验收", code)
    insp.goto("/")
    insp.screenshot(path=str(artifacts / "home-inspector.png"), full_page=True)
    open_from_queue(insp, "待验收", code)
    # A photo without EXIF: accepted, and flagged on the hazard page.
    take(insp, "验收通过", {"验收意见": "现场核实，光电保护有效"}, [plain_photo(tmp_path, "v.jpg")])
    assert state(insp) == "已验收"
    expect(insp.locator("#flags + ul")).to_contain_text("照片没有拍摄时间")

    comm = phone("anweiban")
    comm.goto("/")
    queue = comm.locator("section.queue").filter(
        has=comm.get_by_role("heading", name=re.compile("^待抽查")))
    card = queue.locator("li.card").filter(has_text=code)
    expect(card.locator(".draw")).to_contain_text("重大隐患必抽")
    comm.screenshot(path=str(artifacts / "home-committee.png"), full_page=True)
    open_from_queue(comm, "待抽查", code)
    take(comm, "抽查通过", {"抽查意见": "抽查合格"}, [phone_photo(tmp_path, "check.jpg", seed=3)])
    assert state(comm) == "已抽查"
    take(comm, "销号", {"销号说明": "闭环"})
    assert state(comm) == "已销号"

    # Everyone sees the closed loop; the timeline carries its photos (thumb → preview).
    ent.goto(hazard_url)
    assert state(ent) == "已销号"
    timeline = ent.locator("ol.timeline")
    for label in ("上报", "交办", "签收整改", "整改完成", "验收通过", "抽查抽签", "抽查通过",
                  "销号"):
        expect(timeline.locator("strong", has_text=re.compile(f"^{label}$"))).to_have_count(1)
    thumbs = timeline.locator("ul.thumbs img")
    expect(thumbs).to_have_count(4)
    for i in range(4):
        thumbs.nth(i).scroll_into_view_if_needed()
        ent.wait_for_function("img => img.complete && img.naturalWidth > 0",
                              arg=thumbs.nth(i).element_handle())
    ent.screenshot(path=str(artifacts / "hazard-closed.png"), full_page=True)
    with ent.expect_response(re.compile(r"/photos/\d+\?variant=preview")) as preview:
        thumbs.first.click()
    assert preview.value.ok and preview.value.header_value("content-type") == "image/jpeg"
    ent.go_back()
    ent.get_by_role("link", name="查看重大事故隐患档案").click()
    expect(ent.get_by_role("heading", name="重大事故隐患档案")).to_be_visible()
