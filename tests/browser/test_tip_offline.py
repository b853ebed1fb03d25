"""The tip page offline in a real browser (no account): it opens without a signal, the tip is
kept as a draft, sent once with its Idempotency-Key when the connection returns, and its
receipt is kept on the phone."""

import re

import httpx
from playwright.sync_api import expect

from tests.browser.photos import phone_photo

WHAT = "离线举报：消防通道被电动车堵死"


def test_an_offline_tip_is_kept_sent_once_and_its_receipt_kept(phone, live_server,
                                                               tmp_path, artifacts) -> None:
    photo = phone_photo(tmp_path, "tip.jpg", 57)
    page = phone()  # nobody signed in
    posts: list[dict[str, str]] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST"
            and r.url.endswith("/tip") else None)
    page.goto("/tip")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    page.reload()  # the form opens from the app shell without a signal
    expect(page.get_by_role("heading", name="随手拍 · 隐患举报")).to_be_visible()
    page.get_by_label("现场照片").set_input_files(str(photo))
    page.get_by_label("发现了什么问题").fill(WHAT)
    page.get_by_label("在哪里").fill("工业园区三号门")
    page.get_by_label("联系电话（选填）").fill("13800001111")
    page.get_by_role("button", name="提交举报").click()
    outbox = page.locator("#outbox-status")
    expect(outbox).to_contain_text("待发送 1 项")
    expect(outbox.locator(".outbox-item")).to_contain_text("随手拍举报")
    expect(outbox.locator(".outbox-item")).to_contain_text("1 张照片")
    page.screenshot(path=str(artifacts / "tip-offline-draft.png"), full_page=True)

    page.context.set_offline(False)  # the online event sends the draft
    expect(outbox.locator(".outbox-list")).to_have_count(0)
    expect(outbox).to_contain_text("已发送：随手拍举报")
    link = outbox.locator("a", has_text="查看").get_attribute("href")
    receipt = re.fullmatch(r"/tip/status/([\w-]+)", link)[1]
    status = httpx.get(f"{live_server}/api/v1/tips/receipt/{receipt}")
    assert status.status_code == 200 and status.json()["status"] == "received"
    keys = {headers.get("idempotency-key") for headers in posts}
    assert len(keys) == 1 and None not in keys

    page.goto("/tip")  # the receipt stays on the phone
    kept = page.locator("#tip-receipts")
    expect(kept).to_be_visible()
    expect(kept).to_contain_text(receipt)
    page.goto(link)
    expect(page.locator("#receipt")).to_have_text(receipt)
