"""The 风险点参考库 page: every role reads it; an enterprise adopts a template from it."""

import base64
import re

from sqlalchemy import select

from app.models import Enterprise
from app.services.checks.tasks import generate_tasks
from app.web import board as board_pages
from tests.web.pages import User


def test_an_enterprise_adopts_chosen_items_from_the_library_page(app) -> None:
    ent = User(app, "ent_a")
    html = ent.get("/risk-library?industry=粉尘涉爆").text
    assert "粉尘爆炸危险场所及除尘系统" in html and "第十一条（一）" in html
    assert "氨制冷系统" not in html
    keys = re.findall(r'name="item\.\d+" value="([^"]+)"', html)
    response = ent.post("/risk-library/adopt", {"template": "gm-dust",
        "place": "打磨车间", "level": "high", "frequency": "monthly", "owner": "王磊",
        "item.0": keys[0], "item.3": keys[3]})
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/risk-library?adopted=")
    page = ent.get(response.headers["location"]).text
    assert "已加入本企业风险点清单" in page and "2 项管控措施" in page and "打磨车间" in page


def test_a_refused_adoption_shows_the_form_again_and_stores_nothing(app) -> None:
    ent = User(app, "ent_a")
    response = ent.post("/risk-library/adopt", {"template": "gm-ammonia",
        "place": "", "level": "high", "frequency": "monthly", "owner": "王磊"})
    assert response.status_code == 422
    assert "尚未登记风险点" in response.text and 'value="王磊"' in response.text
    assert ent.post("/risk-library/adopt", {"template": "no-such",
        "place": "冷库", "level": "high", "frequency": "monthly",
        "owner": "王磊"}).status_code == 422


def test_supervisors_read_the_library_but_adopt_nothing(app) -> None:
    for username in ("insp_dept", "anweiban"):
        user = User(app, username)
        html = user.get("/risk-library").text
        assert "危险化工工艺装置及控制系统" in html and "/adopt" not in html
        assert user.post("/risk-library/adopt", {"template": "gm-dust",
            "place": "x", "level": "high", "frequency": "monthly",
            "owner": "x"}).status_code == 403


def test_the_four_colour_board_shows_formula_colours_and_a_map(app, monkeypatch,
                                                                tmp_path) -> None:
    ent = User(app, "ent_a")
    ent.post("/risk-library/adopt", {"template": "gm-dust", "place": "打磨车间",
                                     "level": "major", "frequency": "monthly",
                                     "owner": "王磊"})
    assert ent.get("/board/checks").status_code == 403
    fake = tmp_path / "echarts.min.js"
    fake.write_text("window.echarts = null;")
    monkeypatch.setattr(board_pages, "ECHARTS", fake)
    committee = User(app, "anweiban")
    html = committee.get("/board/checks").text
    assert "双重预防指数 = A + B" in html and "× 50" in html
    town = re.search(r'<tr class="row-(\w+)"><th scope="row">城关镇</th>', html)
    assert town is not None and town.group(1) == "red"  # its enterprise has a 重大 point
    assert re.search(r'<tr class="row-blue"><th scope="row">清溪精密机械有限公司</th>', html)
    assert 'id="check-map"' in html and 'id="check-map-data"' in html
    monkeypatch.setattr(board_pages, "ECHARTS", tmp_path / "missing.js")
    plain = committee.get("/board/checks").text
    assert "check-map" not in plain and 'id="table-check-enterprise"' in plain
    inspector = User(app, "insp_town").get("/board/checks").text
    assert "清溪精密机械有限公司" not in inspector and "演示机械制造有限公司" in inspector


def test_the_a4_poster_carries_name_colour_and_the_signed_code(app, db) -> None:
    a = db.scalars(select(Enterprise).where(Enterprise.name == "演示机械制造有限公司")).one()
    b = db.scalars(select(Enterprise).where(Enterprise.name == "清溪精密机械有限公司")).one()
    ent = User(app, "ent_a")
    assert f"/enterprises/{a.id}/safety-poster" in ent.get("/").text
    poster = ent.get(f"/enterprises/{a.id}/safety-poster")
    assert poster.status_code == 200
    html = poster.text
    assert "演示机械制造有限公司" in html and "蓝色（低风险）" in html
    qr = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert qr and base64.b64decode(qr.group(1)).startswith(b"\x89PNG")
    assert ent.get(f"/enterprises/{b.id}/safety-poster").status_code == 404
    town = User(app, "insp_town")
    assert town.get(f"/enterprises/{a.id}/safety-poster").status_code == 200
    assert town.get(f"/enterprises/{b.id}/safety-poster").status_code == 404
    assert User(app, "anweiban").get(f"/enterprises/{b.id}/safety-poster").status_code == 200


def test_an_enterprise_records_a_task_item_by_item_from_the_phone_page(app, db, clock) -> None:
    ent = User(app, "ent_a")
    ent.post("/risk-library/adopt", {"template": "gm-ammonia", "place": "冷库",
                                     "level": "high", "frequency": "weekly", "owner": "王磊"})
    generate_tasks(db, clock)
    db.commit()
    listing = ent.get("/checks").text
    task_ids = re.findall(r'href="/checks/(\d+)"', listing)
    assert len(task_ids) == 3  # one weekly task per adopted item
    forms = {}
    for task_id in task_ids:
        page = ent.get(f"/checks/{task_id}").text
        assert page.count("data-offline-form") == 1  # one item: one small form
        forms[task_id] = re.search(rf'action="/checks/{task_id}/items/(\d+)"', page).group(1)
    (t1, i1), (t2, i2), (t3, i3) = forms.items()
    done = ent.post(f"/checks/{t1}/items/{i1}", {"outcome": "ok", "note": "正常"}, photos=1)
    assert done.status_code == 303 and done.headers["location"] == f"/checks/{t1}#done-{i1}"
    refused = ent.post(f"/checks/{t2}/items/{i2}", {"outcome": "hazard"})
    assert refused.status_code == 422 and "须附现场照片" in refused.text
    found = ent.post(f"/checks/{t2}/items/{i2}", {"outcome": "hazard", "note": "氨气报警器失效"},
                     photos=1)
    assert found.status_code == 303
    assert "正常（1 张照片）" in ent.get(f"/checks/{t1}").text
    assert "查看隐患" in ent.get(f"/checks/{t2}").text
    assert len(re.findall(r'href="/checks/(\d+)"', ent.get("/checks").text)) == 1
    # An item of another task is 404; recorded once; another enterprise sees nothing.
    assert ent.post(f"/checks/{t3}/items/{i1}", {"outcome": "ok"}).status_code == 404
    assert ent.post(f"/checks/{t1}/items/{i1}", {"outcome": "ok"}).status_code == 409
    other = User(app, "ent_b")
    assert other.get(f"/checks/{t3}").status_code == 404
    assert other.post(f"/checks/{t3}/items/{i3}", {"outcome": "ok"}).status_code == 404
    task_id = t3
    # Its supervisor reads the task but has no form to record it.
    supervisor = User(app, "insp_dept").get(f"/checks/{task_id}").text
    assert "data-offline-form" not in supervisor and "未记录" in supervisor


def test_an_inspector_opens_an_inspection_and_records_it_on_the_page(app, db) -> None:
    a = db.scalars(select(Enterprise).where(Enterprise.name == "演示机械制造有限公司")).one()
    b = db.scalars(select(Enterprise).where(Enterprise.name == "清溪精密机械有限公司")).one()
    User(app, "ent_a").post("/risk-library/adopt", {
        "template": "gm-confined", "place": "污水池", "level": "high",
        "frequency": "monthly", "owner": "王磊"})
    town = User(app, "insp_town")
    listing = town.get("/checks").text
    assert f'<option value="{a.id}">' in listing and f'<option value="{b.id}">' not in listing
    assert town.post("/checks/inspections", {"enterprise_id": str(b.id)}).status_code == 404
    opened = town.post("/checks/inspections", {"enterprise_id": str(a.id)})
    assert opened.status_code == 303
    url = opened.headers["location"]
    page = town.get(url).text
    assert "部门检查" in page and "第十三条（一）" in page
    item = re.search(r'action="(/checks/\d+/items/\d+)"', page).group(1)
    # The enterprise sees the inspection of itself but does not record it.
    assert "data-offline-form" not in User(app, "ent_a").get(url).text
    assert User(app, "ent_a").post(item, {"outcome": "ok"}).status_code == 403
    assert town.post(item, {"outcome": "hazard", "note": "未设置警示标志"},
                     photos=1).status_code == 303
    assert "查看隐患" in town.get(url).text
    assert User(app, "ent_a").post("/checks/inspections",
                                   {"enterprise_id": str(a.id)}).status_code == 403
