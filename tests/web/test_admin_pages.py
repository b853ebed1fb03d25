"""Administration pages (docs/admin.md): who may open each, forms that change what the API
changes, a temporary password shown once, deactivation ending an open page session."""

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Enterprise, Region, Unit, User
from app.models.enums import Role
from app.services.accounts.users import create_user
from tests.api.helpers import neighbouring_county
from tests.web.pages import User as Browser

DEMO = ("ent_a", "insp_dept", "insp_town", "anweiban", "admin", "secadmin", "auditor")
FOREIGN = ("admin_2", "secadmin_2", "anweiban_2")


@pytest.fixture
def foreign(db: Session, clock) -> Region:
    county, _town, _headers = neighbouring_county(db, clock)
    for name, role in (("admin_2", Role.admin), ("secadmin_2", Role.security_admin)):
        create_user(db, username=name, password="other-pass-2026", role=role,
                    region_id=county.id, clock=clock)
    db.commit()
    return county


def browser(app, username: str) -> Browser:
    if username.endswith("_2"):
        user = Browser(app)
        assert user.login(username, "other-pass-2026").status_code == 303
        return user
    return Browser(app, username)


def one(db: Session, model, **by) -> int:
    return db.scalars(select(model.id).filter_by(**by)).one()


def page_statuses(app, urls: list[str]) -> dict[str, tuple[int, ...]]:
    return {actor: tuple(browser(app, actor).get(url).status_code for url in urls)
            for actor in DEMO + FOREIGN}


def test_who_may_open_each_page(app, db, foreign) -> None:
    ent_b = one(db, User, username="ent_b")
    town = one(db, Region, code="339901100000")
    unit = one(db, Unit, name="城关镇安全生产办公室")
    enterprise = one(db, Enterprise, uscc="91339901MA2B00001F")
    org = [f"/admin/{kind}" for kind in ("regions", "units", "enterprises")] + [
        f"/admin/{kind}/new" for kind in ("regions", "units", "enterprises")]
    org_rows = [f"/admin/regions/{town}", f"/admin/units/{unit}",
                f"/admin/enterprises/{enterprise}"]
    user_pages = ["/admin/users", "/admin/users/new"]
    found = page_statuses(app, org + org_rows + user_pages + [f"/admin/users/{ent_b}"])
    n_org, n_rows = len(org), len(org_rows)
    for actor, codes in found.items():
        org_codes, row_codes = codes[:n_org], codes[n_org:n_org + n_rows]
        user_codes, one_user = codes[n_org + n_rows:-1], codes[-1]
        if actor == "admin":
            assert codes == (200,) * len(codes), actor
        elif actor == "admin_2":
            assert org_codes == (200,) * n_org and row_codes == (404,) * n_rows
            assert user_codes == (200, 200) and one_user == 404
        elif actor == "secadmin":
            assert org_codes + row_codes == (403,) * (n_org + n_rows)
            assert user_codes == (200, 200) and one_user == 200
        elif actor == "secadmin_2":
            assert org_codes + row_codes == (403,) * (n_org + n_rows)
            assert user_codes == (200, 200) and one_user == 404
        else:
            assert codes == (403,) * len(codes), (actor, codes)


def test_the_menu_shows_administration_to_administrators_only(app) -> None:
    assert 'href="/admin/regions"' in browser(app, "admin").get("/").text
    sec_home = browser(app, "secadmin").get("/").text
    assert 'href="/admin/users"' in sec_home and 'href="/admin/regions"' not in sec_home
    for actor in ("anweiban", "auditor", "ent_a"):
        assert "/admin/" not in browser(app, actor).get("/").text, actor


def test_creating_a_user_shows_the_temporary_password_once(app, db) -> None:
    admin = browser(app, "admin")
    office = one(db, Unit, name="城关镇安全生产办公室")
    response = admin.post("/admin/users/new", {"username": "wang_wu", "display_name": "王五",
                                               "role": "inspector", "unit_id": str(office)})
    assert response.status_code == 200, response.text
    password = re.search(r"<code>([^<]+)</code>", response.text).group(1)
    user = db.scalars(select(User).where(User.username == "wang_wu")).one()
    assert user.unit_id == office and user.password_change_required
    assert password not in admin.get(f"/admin/users/{user.id}").text
    assert Browser(app).login("wang_wu", password).status_code == 303


def test_a_refused_form_comes_back_with_chinese_messages(app, db) -> None:
    admin = browser(app, "admin")
    county = one(db, Region, code="339901000000")
    response = admin.post("/admin/regions/new", {"parent_id": str(county), "code": "12",
                                                 "name": "镇" * 150})
    assert response.status_code == 422
    assert "格式不正确" in response.text and "内容过长" in response.text
    assert "镇" * 150 in response.text  # what was typed is kept
    bad = admin.post("/admin/enterprises/new", {"name": "某企业", "uscc": "91339901MA2B00001X",
                                                "region_id": str(county),
                                                "industry_id": "1"})
    assert bad.status_code == 422 and "统一社会信用代码" in bad.text


def test_editing_organisation_records(app, db) -> None:
    admin = browser(app, "admin")
    town2 = one(db, Region, code="339901101000")
    assert admin.post(f"/admin/regions/{town2}", {"name": "清溪街道"}).status_code == 303
    assert db.get(Region, town2).name == "清溪街道"
    enterprise = one(db, Enterprise, uscc="91339901MA2B00002J")
    edit = admin.get(f"/admin/enterprises/{enterprise}")
    assert "清溪精密机械有限公司" in edit.text
    town1 = one(db, Region, code="339901100000")
    moved = admin.post(f"/admin/enterprises/{enterprise}", {
        "name": "清溪精密机械有限公司", "uscc": "91339901MA2B00002J", "region_id": str(town1),
        "industry_id": str(db.get(Enterprise, enterprise).industry_id),
        "address": "城关镇新区 1 号", "lat": "", "lon": ""})
    assert moved.status_code == 303, moved.text
    assert db.get(Enterprise, enterprise).region_id == town1
    county = one(db, Region, code="339901000000")
    jixie = db.get(Enterprise, enterprise).industry_id
    made = admin.post("/admin/units/new", {"name": "演示县经信局", "kind": "department",
                                           "region_id": str(county),
                                           f"industry_ids.{jixie}": "on"})
    assert made.status_code == 303, made.text
    unit = db.scalars(select(Unit).where(Unit.name == "演示县经信局")).one()
    assert [i.id for i in unit.industries] == [jixie] and [r.id for r in unit.regions] == [
        county]
    actions = {e.action for e in db.scalars(select(AuditEntry))}
    assert {"region_update", "enterprise_update", "unit_create"} <= actions


def test_deactivation_ends_an_open_page_session(app, db) -> None:
    inspector = browser(app, "insp_town")
    assert inspector.get("/").status_code == 200
    target = one(db, User, username="insp_town")
    sec = browser(app, "secadmin")
    page = sec.get(f"/admin/users/{target}")
    assert "停用账号" in page.text and "重置密码" not in page.text  # not an account it edits
    response = sec.post(f"/admin/users/{target}/active", {"active": "false"})
    assert response.status_code == 303
    assert "已停用" in sec.get(response.headers["location"]).text
    assert inspector.get("/").status_code == 303  # back to the login page
    assert inspector.get("/").headers["location"].startswith("/login")


def test_password_reset_and_unlock_from_the_page(app, db) -> None:
    admin = browser(app, "admin")
    target = one(db, User, username="ent_b")
    reset = admin.post(f"/admin/users/{target}/password-reset")
    assert reset.status_code == 200 and "原有登录已全部失效" in reset.text
    assert admin.post(f"/admin/users/{target}/unlock").status_code == 303
    # A security admin's account is not the system admin's to reset.
    auditor = one(db, User, username="auditor")
    assert admin.post(f"/admin/users/{auditor}/password-reset").status_code == 403


def test_forms_need_the_csrf_token(app, db) -> None:
    admin = browser(app, "admin")
    town2 = one(db, Region, code="339901101000")
    assert admin.post(f"/admin/regions/{town2}", {"name": "x"}, csrf="").status_code == 403
    assert db.get(Region, town2).name == "清溪镇"


def test_admin_home_pages_of_the_new_roles(app) -> None:
    assert "安全管理" in browser(app, "secadmin").get("/").text
    assert "安全审计" in browser(app, "auditor").get("/").text
