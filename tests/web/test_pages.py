"""The pages over HTTP: each role's queues, the loop through the forms, refusals shown as
forms, scoping, and the cookie-authenticated photo, ledger and dossier routes."""

import hashlib
import re
from datetime import timedelta

from app.core.clock import local_today
from app.services.supervision.scans import supervise_hazard
from tests.api.helpers import PLAN, in_days
from tests.samples import jpeg_bytes, photo
from tests.web.pages import User, codes, section


def code_of(user: User, hid: int) -> str:
    return re.search(r"<dt>编号</dt><dd>([^<]+)</dd>", user.get(f"/hazards/{hid}").text).group(1)


def state_on_page(user: User, hid: int) -> str:
    return re.search(r'id="hazard-state">([^<]+)<', user.get(f"/hazards/{hid}").text).group(1)


def test_the_whole_loop_through_the_forms(app) -> None:
    ent, insp, comm = User(app, "ent_a"), User(app, "insp_dept"), User(app, "anweiban")
    hid = ent.report(level="major", major_clause="工贸 第四条")
    code = code_of(ent, hid)
    assert code in codes(section(insp.get("/").text, "to_assign"))
    assert insp.act(hid, "assign", {"deadline": in_days(10)}).headers["location"] == \
        f"/hazards/{hid}"
    assert code in codes(section(ent.get("/").text, "to_accept"))
    # A major hazard's acceptance needs the five-determination plan (五定).
    refused = ent.act(hid, "accept")
    assert refused.status_code == 422 and "责任人" in refused.text
    assert ent.act(hid, "accept", PLAN).status_code == 303
    assert code in codes(section(ent.get("/").text, "rectifying"))
    assert ent.act(hid, "submit", {"note": "已加装接地线"}, photos=1).status_code == 303
    assert code in codes(section(insp.get("/").text, "to_verify"))
    assert insp.act(hid, "verify", {"note": "现场核实，整改到位"}, photos=1).status_code == 303
    home = section(comm.get("/").text, "to_spot_check")
    assert code in codes(home) and "重大隐患必抽" in home  # the draw is shown with the queue
    assert comm.act(hid, "spot_check", {"note": "抽查合格"}, photos=1).status_code == 303
    assert code in codes(section(comm.get("/").text, "to_close"))
    assert comm.act(hid, "close").status_code == 303
    assert state_on_page(ent, hid) == "已销号"
    page = ent.get(f"/hazards/{hid}").text
    for label in ("上报", "交办", "签收整改", "整改完成", "验收通过", "抽查抽签", "抽查通过",
                  "销号"):
        assert f"<strong>{label}</strong>" in page
    assert "张建国（生产副总）" in page  # the plan is on the page
    assert f'href="/hazards/{hid}/dossier"' in page


def test_enterprise_home_groups_by_what_to_do(app, db, clock) -> None:
    ent, insp = User(app, "ent_a"), User(app, "insp_dept")
    ids = [ent.report(title=f"隐患{n}") for n in range(5)]
    to_accept, rectifying, returned, overdue, waiting = ids
    for hid in ids[:4]:
        insp.act(hid, "assign", {"deadline": in_days(3 if hid == overdue else 10)})
    for hid in (rectifying, returned, overdue):
        assert ent.act(hid, "accept").status_code == 303
    ent.act(returned, "submit", {"note": "已整改"}, photos=1)
    assert insp.act(returned, "return", {"reason": "接地电阻不合格"}, photos=1).status_code == 303
    clock.advance(timedelta(days=4))
    ent, insp = User(app, "ent_a"), User(app, "insp_dept")  # the old sessions have timed out
    home = ent.get("/").text
    expected = {"to_accept": to_accept, "rectifying": rectifying, "returned": returned,
                "overdue": overdue, "waiting": waiting}
    for key, hid in expected.items():
        assert codes(section(home, key)) == [code_of(ent, hid)], key
    # The inspector's overdue queue holds the overdue one; the worker's notice reaches both.
    assert codes(section(insp.get("/").text, "overdue")) == [code_of(ent, overdue)]
    supervise_hazard(db, overdue, now=clock.now(), today=local_today(clock))
    assert "1 份督办单待签收" in ent.get("/").text


def test_notices_are_acknowledged_from_the_page(app, db, clock) -> None:
    ent, insp = User(app, "ent_a"), User(app, "insp_dept")
    hid = ent.report()
    insp.act(hid, "assign", {"deadline": in_days(1)})
    clock.advance(timedelta(days=3))
    supervise_hazard(db, hid, now=clock.now(), today=local_today(clock))
    ent = User(app, "ent_a")
    page = ent.get("/notices").text
    number = re.search(r"<strong>(督办〔\d+〕第\d+号)</strong>", page).group(1)
    notice_id = re.search(r'action="/notices/(\d+)/ack"', page).group(1)
    # Another enterprise cannot acknowledge it, nor learn it exists.
    assert User(app, "ent_b").post(f"/notices/{notice_id}/ack").status_code == 404
    assert ent.post(f"/notices/{notice_id}/ack").headers["location"] == "/notices"
    page = ent.get("/notices").text
    assert number in page and "已于" in page and f"/notices/{notice_id}/ack" not in page
    assert "签收督办单" in ent.get(f"/hazards/{hid}").text  # on the timeline


def test_extension_requested_and_approved_through_the_pages(app) -> None:
    ent, insp = User(app, "ent_a"), User(app, "insp_dept")
    hid = ent.report()
    insp.act(hid, "assign", {"deadline": in_days(5)})
    ent.act(hid, "accept")
    assert f'href="/hazards/{hid}/extension"' in ent.get(f"/hazards/{hid}").text
    refused = ent.post(f"/hazards/{hid}/extension", {"deadline": in_days(3), "reason": "缺配件",
                                                     "interim_measures": "停用设备"})
    assert refused.status_code == 422 and "延期后的期限应晚于当前期限" in refused.text
    assert "缺配件" in refused.text  # typed text kept
    requested = ent.post(f"/hazards/{hid}/extension", {"deadline": in_days(20), "reason": "缺配件",
                                                       "interim_measures": "停用设备"})
    assert requested.status_code == 303
    page = insp.get(f"/hazards/{hid}").text
    assert "待审批" in page
    extension_id = re.search(r"/extensions/(\d+)/decision", page).group(1)
    assert insp.post(f"/hazards/{hid}/extensions/{extension_id}/decision",
                     {"decision": "approve", "note": "同意"}).status_code == 303
    page = ent.get(f"/hazards/{hid}").text
    # Deadline history: the assignment's date, then the approved extension's.
    history = re.search(r'<h2 id="deadlines">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<td>(\d{4}-\d\d-\d\d)</td>", history) == [in_days(5), in_days(5),
                                                                  in_days(20)]
    assert "已同意" in page


def test_listing_by_the_committee(app) -> None:
    ent, comm = User(app, "ent_a"), User(app, "anweiban")
    hid = ent.report(level="major", major_clause="工贸 第四条")
    refused = comm.post(f"/hazards/{hid}/listing", {"level": "county", "authority": "演示县安委会"})
    assert refused.status_code == 422 and 'value="演示县安委会"' in refused.text
    assert comm.post(f"/hazards/{hid}/listing", {"level": "county", "authority": "演示县安委会",
                                                 "document_number": "演安委〔2026〕3号"}
                     ).status_code == 303
    assert "县级挂牌督办" in ent.get(f"/hazards/{hid}").text
    assert ent.get(f"/hazards/{hid}/listing").status_code == 200  # the form shows …
    assert ent.post(f"/hazards/{hid}/delisting").status_code == 403  # … but only 安委办 lists


def test_a_refused_report_keeps_what_was_typed_and_stores_nothing(app) -> None:
    ent = User(app, "ent_a")
    response = ent.post("/hazards/new", {"title": "消防通道堵塞", "description": "",
                                         "location": "仓库北门", "level": "general"})
    assert response.status_code == 422
    assert 'value="消防通道堵塞"' in response.text and 'value="仓库北门"' in response.text
    assert "须上传至少一张照片" in response.text
    assert "消防通道堵塞" not in ent.get("/").text.split("<main", 1)[1].split("</h1>", 1)[1]


def test_a_stale_form_answers_409_with_the_form_again(app) -> None:
    ent, insp = User(app, "ent_a"), User(app, "insp_dept")
    hid = ent.report()
    form = insp.get(f"/hazards/{hid}/actions/assign").text
    version = re.search(r'name="expected_version" value="(\d+)"', form).group(1)
    User(app, "anweiban").act(hid, "assign", {"deadline": in_days(7)})
    response = insp.act(hid, "assign", {"deadline": in_days(9), "expected_version": version})
    assert response.status_code == 409 and "已被他人更新" in response.text
    assert f'value="{in_days(9)}"' in response.text


def test_pages_are_scoped_like_the_api(app) -> None:
    ent_a, ent_b = User(app, "ent_a"), User(app, "ent_b")
    hid = ent_a.report()
    page = ent_a.get(f"/hazards/{hid}").text
    photo_id = re.search(r'href="/photos/(\d+)\?variant=preview"', page).group(1)
    for url in (f"/hazards/{hid}", f"/photos/{photo_id}", f"/photos/{photo_id}?variant=thumb",
                f"/hazards/{hid}/actions/accept", f"/hazards/{hid}/extension"):
        response = ent_b.get(url)
        assert response.status_code == 404, url
        assert "隐患不存在" in response.text or "照片不存在" in response.text
    assert ent_b.act(hid, "accept").status_code == 404
    assert code_of(ent_a, hid) not in ent_b.get("/").text
    # A role that may never take the action: 403, even to see the form.
    assert ent_a.get(f"/hazards/{hid}/actions/assign").status_code == 403
    assert ent_a.get(f"/hazards/{hid}/actions/launch").status_code == 404
    assert ent_a.get("/hazards/abc").status_code == 404
    # The township office of another township does not supervise enterprise B.
    hid_b = ent_b.report()
    assert User(app, "insp_town").get(f"/hazards/{hid_b}").status_code == 404


def test_photos_are_the_original_bytes(app) -> None:
    ent = User(app, "ent_a")
    original = jpeg_bytes((400, 300))
    response = ent.post("/hazards/new", {"title": "t", "description": "d", "location": "l",
                                         "level": "general"},
                        files=[("photos", ("scene.jpg", original, "image/jpeg"))])
    hid = int(response.headers["location"].rsplit("/", 1)[1])
    photo_id = re.search(r'href="/photos/(\d+)"', ent.get(f"/hazards/{hid}").text).group(1)
    served = ent.get(f"/photos/{photo_id}")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(original).hexdigest()
    thumb = ent.get(f"/photos/{photo_id}?variant=thumb")
    assert thumb.headers["content-type"] == "image/jpeg" and len(thumb.content) < len(original)
    # Without a session: the login page, not the photo.
    assert User(app).get(f"/photos/{photo_id}").status_code == 303


def test_authenticity_flags_are_shown(app) -> None:
    ent = User(app, "ent_a")
    hid = ent.report()  # a JPEG without EXIF: no capture time
    page = ent.get(f"/hazards/{hid}").text
    assert "照片真实性提示" in page and "照片没有拍摄时间" in page


def flags_section(html: str) -> str:
    match = re.search(r'<section aria-labelledby="flags">(.*?)</section>', html, re.S)
    assert match, "no authenticity section"
    return match.group(1)


def test_a_reused_photo_of_another_enterprise_is_not_linked(app) -> None:
    ent_a, ent_b, comm = User(app, "ent_a"), User(app, "ent_b"), User(app, "anweiban")
    same = jpeg_bytes()
    fields = {"title": "配电箱未接地", "description": "外壳未接地", "location": "车间",
              "level": "general"}
    theirs, hid = (
        int(user.post("/hazards/new", fields, files=[photo("same.jpg", same)])
            .headers["location"].rsplit("/", 1)[1])
        for user in (ent_a, ent_b))
    flags = flags_section(ent_b.get(f"/hazards/{hid}").text)
    assert "同一张照片此前已在别处使用过" in flags
    assert code_of(comm, theirs) not in flags and f"/hazards/{theirs}" not in flags
    linked = flags_section(comm.get(f"/hazards/{hid}").text)
    assert f'href="/hazards/{theirs}#photo-' in linked and code_of(comm, theirs) in linked


def test_ledger_downloads_with_the_cookie_and_the_callers_scope(app) -> None:
    ent_a, ent_b, comm = User(app, "ent_a"), User(app, "ent_b"), User(app, "anweiban")
    code_a = code_of(ent_a, ent_a.report())
    code_b = code_of(ent_b, ent_b.report())
    response = comm.get("/ledger?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert code_a in text and code_b in text
    only_b = ent_b.get("/ledger?format=csv").content.decode("utf-8-sig")
    assert code_b in only_b and code_a not in only_b
    assert comm.get("/ledger?format=xlsx").content[:2] == b"PK"
    assert User(app).get("/ledger?format=csv").status_code == 303


def test_dossier_page_for_a_major_hazard(app) -> None:
    ent = User(app, "ent_a")
    hid = ent.report(level="major", major_clause="工贸 第四条")
    response = ent.get(f"/hazards/{hid}/dossier")
    assert response.status_code == 200 and "重大事故隐患档案" in response.text
    general = ent.report()
    assert ent.get(f"/hazards/{general}/dossier").status_code == 404
    assert "重大事故隐患档案" not in ent.get(f"/hazards/{general}").text


def test_a_listed_major_hazard_is_evaluated_before_it_is_verified(app) -> None:
    ent, insp, comm = User(app, "ent_a"), User(app, "insp_dept"), User(app, "anweiban")
    hid = ent.report(level="major", major_clause="工贸 第四条")
    comm.post(f"/hazards/{hid}/listing", {"level": "county", "authority": "演示县安委会",
                                          "document_number": "演安委〔2026〕4号"})
    insp.act(hid, "assign", {"deadline": in_days(10)})
    ent.act(hid, "accept", PLAN)
    ent.act(hid, "submit", {"note": "已整改"}, photos=1)
    refused = insp.act(hid, "verify", {"note": "合格"}, photos=1)
    assert refused.status_code == 409 and "须先提交整改评估" in refused.text
    assert f'href="/hazards/{hid}/evaluation"' not in insp.get(f"/hazards/{hid}").text
    assert f'href="/hazards/{hid}/evaluation"' in ent.get(f"/hazards/{hid}").text
    missing = ent.post(f"/hazards/{hid}/evaluation", {"kind": "third_party", "summary": "合格"},
                       photos=1)
    assert missing.status_code == 422 and "第三方评估须填写评估机构" in missing.text
    assert ent.post(f"/hazards/{hid}/evaluation", {"kind": "self", "summary": "整改到位"},
                    photos=1).status_code == 303
    assert f'href="/hazards/{hid}/evaluation"' not in ent.get(f"/hazards/{hid}").text
    assert insp.act(hid, "verify", {"note": "合格"}, photos=1).status_code == 303
    assert state_on_page(ent, hid) == "已验收"


def test_the_report_form_asks_a_major_hazard_for_its_basis(app) -> None:
    ent = User(app, "ent_a")
    refused = ent.post("/hazards/new", {"title": "冲压机防护罩缺失", "description": "防护罩拆除",
                                        "location": "一号车间", "level": "major"}, photos=1)
    assert refused.status_code == 422
    assert "经评估认定" in refused.text and 'name="major_basis"' in refused.text
    hid = ent.report(level="major", major_basis="整改需停产，危害和整改难度大")
    assert "经评估认定：整改需停产" in ent.get(f"/hazards/{hid}").text
