"""The public tip pages: no account, no cookie; the receipt page tells the outcome only."""

import re

from fastapi.testclient import TestClient

from tests.samples import photo

DATA = {"description": "仓库安全出口被货物堵死", "location": "工业园区一号门东侧",
        "phone": "13812345678", "enterprise_name": "演示机械制造"}


def test_the_tip_page_sends_a_tip_and_shows_its_receipt(app) -> None:
    browser = TestClient(app)
    form = browser.get("/tip")
    assert form.status_code == 200
    for name in ("photos", "description", "location", "enterprise_name", "phone", "lat", "lon"):
        assert f'name="{name}"' in form.text
    assert 'capture="environment"' in form.text and "使用我的位置" in form.text
    assert 'name="viewport" content="width=device-width' in form.text
    assert "退出登录" not in form.text

    sent = browser.post("/tip", data=DATA, files=[photo()])
    assert sent.status_code == 201, sent.text
    receipt = re.search(r'<output id="receipt">([\w-]+)</output>', sent.text).group(1)
    assert len(receipt) >= 22
    assert "set-cookie" not in sent.headers

    status = browser.get(f"/tip/status/{receipt}")
    assert status.status_code == 200
    assert "已受理" in status.text
    for secret in ("13812345678", "演示机械制造", "县安委办"):
        assert secret not in status.text
    assert browser.get("/tip/status/" + "x" * 22).status_code == 404
    found = browser.get("/tip/status", params={"receipt": receipt}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/tip/status/{receipt}"


def test_a_refused_tip_keeps_what_was_typed(app) -> None:
    refused = TestClient(app).post("/tip", data=DATA)
    assert refused.status_code == 422
    assert 'value="工业园区一号门东侧"' in refused.text
    assert "请至少拍摄或上传一张照片" in refused.text


def test_the_safety_code_leads_to_a_tip_about_that_enterprise(app, db) -> None:
    """Scanned at the factory gate: the 安全码 page offers the tip form, which names the
    enterprise and sends its signed code, so the tip reaches that enterprise's supervisors
    whatever the tipster types; a code this server did not sign is refused."""
    from sqlalchemy import select

    from app.models import Enterprise, Tip
    from app.services.checks import safety_code

    enterprise = db.scalars(select(Enterprise).order_by(Enterprise.id.desc())).first()
    browser = TestClient(app)
    gate = browser.get(safety_code.public_path(enterprise.id))
    assert gate.status_code == 200
    link = re.search(r'href="(/tip\?enterprise=\d+&amp;s=[\w-]+)"', gate.text).group(1)
    form = browser.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    assert f"举报对象：<strong>{enterprise.name}</strong>" in form.text
    assert 'name="enterprise_name"' not in form.text
    code = re.search(r'name="enterprise_code" value="([\w.-]+)"', form.text).group(1)

    fields = {"description": "配电房门口堆满纸箱", "location": "厂区东门", "enterprise_code": code}
    assert browser.post("/tip", data=fields, files=[photo()]).status_code == 201
    sent = db.scalars(select(Tip).order_by(Tip.id.desc())).first()
    assert sent.enterprise_id == enterprise.id

    forged = browser.post("/tip", data={**fields, "enterprise_code": f"{enterprise.id}.AAAA"},
                          files=[photo()])
    assert forged.status_code == 422
    assert "安全码无效" in forged.text
    assert browser.get(f"/tip?enterprise={enterprise.id}&s=AAAA").status_code == 404


def test_a_draft_sent_again_by_the_page_shows_the_same_receipt(app) -> None:
    browser = TestClient(app)
    image = photo()
    headers = {"Idempotency-Key": "tip-draft-1"}
    first = browser.post("/tip", data=DATA, files=[image], headers=headers)
    again = browser.post("/tip", data=DATA, files=[image], headers=headers)
    assert first.status_code == again.status_code == 201
    receipts = [re.search(r'<output id="receipt">([\w-]+)</output>', r.text).group(1)
                for r in (first, again)]
    assert receipts[0] == receipts[1]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_tip_form_is_an_offline_form_kept_in_the_app_shell(app) -> None:
    form = TestClient(app).get("/tip").text
    assert "data-offline-form" in form and "data-offline-public" in form
    worker = TestClient(app).get("/sw.js").text
    assert '"/tip"' in worker


def test_the_staff_triage_a_tip_on_its_pages(client, auth, db) -> None:
    from sqlalchemy import select

    from app.models import Enterprise, Tip
    from tests.web.test_idempotency import sign_in

    sent = client.post("/tip", data=DATA, files=[photo()])
    assert sent.status_code == 201
    tip = db.scalars(select(Tip).order_by(Tip.id.desc())).first()
    token = sign_in(client, "anweiban")
    listed = client.get("/tips")
    assert listed.status_code == 200 and f'href="/tips/{tip.id}"' in listed.text
    shown = client.get(f"/tips/{tip.id}")
    assert shown.status_code == 200
    assert "13812345678" in shown.text  # the handling staff see the phone
    assert tip.receipt not in shown.text
    thumb = client.get(f"/tips/{tip.id}/photos/{tip.photos[0].id}?variant=thumb")
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    refused = client.post(f"/tips/{tip.id}/actions/reject",
                          data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and "理由" in refused.text
    ent = db.scalars(select(Enterprise).where(Enterprise.name == "演示机械制造有限公司")).one()
    converted = client.post(f"/tips/{tip.id}/actions/convert", follow_redirects=False, data={
        "csrf_token": token, "enterprise_id": str(ent.id), "title": "安全出口堵塞",
        "location": "一号门", "description": DATA["description"], "level": "general"})
    assert converted.status_code == 303, converted.text
    db.refresh(tip)
    assert converted.headers["location"] == f"/hazards/{tip.hazard_id}"
    rewarded = client.post(f"/tips/{tip.id}/reward", data={"csrf_token": token},
                           follow_redirects=False)
    assert rewarded.status_code == 303
    assert "500 元" in client.get(f"/tips/{tip.id}").text
    # An enterprise user has no tip pages at all.
    other = TestClient(client.app)
    sign_in(other, "ent_a")
    assert other.get(f"/tips/{tip.id}").status_code == 404
    assert "13812345678" not in other.get(f"/hazards/{tip.hazard_id}").text
