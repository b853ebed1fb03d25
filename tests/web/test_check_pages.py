"""The 风险点参考库 page: every role reads it; an enterprise adopts a template from it."""

import base64
import re

from sqlalchemy import select

from app.models import Enterprise
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
