"""Accessibility and weight at 360 px: labelled controls, contrast, no sideways scrolling,
keyboard use, and no page shipping more than 300 KB of script (the board excepted)."""

import json
import re

from playwright.sync_api import Page, expect

from tests.browser.checks import SCRIPT_BUDGET, ScriptMeter, accessibility_problems
from tests.browser.photos import phone_photo


def report(page: Page, tmp_path, title: str) -> str:
    page.goto("/hazards/new")
    page.get_by_label("现场照片").set_input_files([str(phone_photo(tmp_path, "s.jpg", 11))])
    page.get_by_label("隐患名称").fill(title)
    page.get_by_label("所在位置").fill("仓库")
    page.get_by_label("隐患描述").fill("叉车充电区未设置防护栏")
    page.get_by_label("一般事故隐患").check()
    page.get_by_role("button", name="上报").click()
    page.wait_for_url(re.compile(r"/hazards/\d+$"))
    return page.url


def test_pages_are_labelled_legible_narrow_and_light(phone, tmp_path, artifacts) -> None:
    sizes: dict[str, int] = {}
    problems: dict[str, dict[str, list[str]]] = {}
    login = phone()
    meter = ScriptMeter(login)
    sizes["/login"] = meter.measure(lambda: login.goto("/login"))
    problems["/login"] = accessibility_problems(login)

    ent = phone("ent_a")
    hazard_url = report(ent, tmp_path, "叉车充电区无防护")
    hazard_path = hazard_url.split("://", 1)[1].split("/", 1)[1]
    hid = hazard_path.rsplit("/", 1)[1]
    insp = phone("insp_dept")
    comm = phone("anweiban")
    visits = [
        ("ent_a", ent, "/"), ("ent_a", ent, "/hazards/new"), ("ent_a", ent, f"/{hazard_path}"),
        ("ent_a", ent, "/notices"), ("ent_a", ent, f"/hazards/{hid}/actions/submit"),
        ("ent_a", ent, f"/hazards/{hid}/extension"), ("ent_a", ent, f"/hazards/{hid}/evaluation"),
        ("ent_a", ent, "/hazards/999999"),
        ("insp_dept", insp, "/"), ("insp_dept", insp, f"/hazards/{hid}/actions/assign"),
        ("insp_dept", insp, f"/hazards/{hid}"), ("insp_dept", insp, "/notices"),
        ("anweiban", comm, "/"), ("anweiban", comm, f"/hazards/{hid}/actions/spot_check"),
        ("anweiban", comm, f"/hazards/{hid}/listing"), ("anweiban", comm, f"/hazards/{hid}"),
    ]
    for username, page, path in visits:
        meter = ScriptMeter(page)
        key = f"{username} {path}"
        sizes[key] = meter.measure(lambda page=page, path=path: page.goto(path))
        problems[key] = accessibility_problems(page)
    (artifacts / "script-sizes.json").write_text(json.dumps(sizes, ensure_ascii=False, indent=1))
    assert {k: v for k, v in problems.items() if v} == {}
    assert {k: v for k, v in sizes.items() if v > SCRIPT_BUDGET} == {}
    assert sizes["/login"] > 0  # the measurement sees the pages' own script


def test_sign_in_and_report_by_keyboard_alone(phone, tmp_path) -> None:
    page = phone()
    page.goto("/login")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("ent_a")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-pass-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    # Every stop of the tab order on the home page shows where the focus is.
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("""() => {
            const el = document.activeElement, s = getComputedStyle(el);
            return [el.tagName, el.textContent.trim().slice(0, 12), s.outlineStyle,
                    parseFloat(s.outlineWidth)];
        }"""))
    stops = [s for s in seen if s[0] != "BODY"]  # past the last stop focus leaves the page
    assert len(stops) >= 7
    assert [s for s in stops if s[2] == "none" or s[3] < 2] == []
    assert any(s[1] == "拍照上报隐患" for s in seen)
    # The report form, filled and sent from the keyboard (the file comes from the camera).
    page.goto("/hazards/new")
    page.get_by_label("现场照片").set_input_files([str(phone_photo(tmp_path, "k.jpg", 12))])
    page.get_by_label("隐患名称").focus()
    page.keyboard.type("安全出口指示灯不亮")
    page.keyboard.press("Tab")
    page.keyboard.type("二楼东侧")
    page.keyboard.press("Tab")
    page.keyboard.type("应急照明失效")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the first level: 一般事故隐患
    expect(page.get_by_label("一般事故隐患")).to_be_checked()
    page.get_by_role("button", name="上报").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/hazards/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("安全出口指示灯不亮")
