"""Onboarding import (初始化导入): templates, dry run, all-or-nothing commit, scope, limits.

The demo county (339901000000 演示县) has townships 339901100000 城关镇 and 339901101000
清溪镇, industries 机械 / 化工 / 建材, units 演示县应急管理局 and 城关镇安全生产办公室, and the
enterprises 91339901MA2B00001F and 91339901MA2B00002J; `admin` answers for the county.
"""

import codecs
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.security import issue_token
from app.models import AuditEntry, Enterprise, Region, Unit, User
from app.models.enums import RegionLevel, Role
from app.services.accounts.users import create_user
from app.services.org.regions import child_path
from tests.api.helpers import report

Auth = Callable[[str], dict[str, str]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = "/api/v1/admin/import"

REGION_HEADERS = ["区划代码", "名称", "级别", "上级区划代码"]
UNIT_HEADERS = ["单位名称", "单位类型", "所属区划代码", "监管行业", "监管区划"]
ENTERPRISE_HEADERS = ["企业名称", "统一社会信用代码", "所属乡镇区划代码", "行业", "地址", "纬度",
                      "经度"]
USER_HEADERS = ["用户名", "姓名", "角色", "所属企业统一社会信用代码", "所属单位", "所属区划代码",
                "手机号"]
# Valid codes (GB 32100 check characters) that the demo does not hold.
USCC_3, USCC_4, USCC_5, USCC_6 = ("91339901MA2B00003M", "91339901MA2B00004Q",
                                  "91339901MA2B00005U", "91339901MA2B00006Y")
BAISHA = "339901102000"  # a township the imports create under the demo county


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_file(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode(encoding) + b"\r\n"


def upload(client: TestClient, auth: Auth, data: bytes, *, dry_run: bool = True,
           kind: str | None = None, username: str = "admin", name: str = "import.xlsx",
           headers: dict[str, str] | None = None) -> Response:
    params: dict[str, Any] = {"dry_run": str(dry_run).lower()}
    if kind:
        params["kind"] = kind
    return client.post(URL, params=params, files={"file": (name, data)},
                       headers=headers or auth(username))


def where(problems: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(p["sheet"], p["row"], p["column"], p["code"]) for p in problems]


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    """Log in with an initial password, which must be changed first; then with the new one."""
    def token(password: str) -> dict[str, str]:
        response = client.post("/api/v1/auth/token",
                               data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    first = token(password)
    assert client.get("/api/v1/me", headers=first).json()["password_change_required"]
    assert client.get("/api/v1/hazards", headers=first).status_code == 403
    changed = client.post("/api/v1/me/password", headers=first, data={
        "current_password": password, "new_password": "Own-Choice-2027"})
    assert changed.status_code == 204, changed.text
    return token("Own-Choice-2027")


def counts(db: Session) -> tuple[int, ...]:
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (Region, Unit, Enterprise, User))


def good_workbook() -> dict[str, list[list[Any]]]:
    """A township, its office, a department, an enterprise in the new township, 3 users.

    The sheets come users first: rows may refer to rows anywhere in the file.
    """
    return {
        "用户": [USER_HEADERS,
               ["baisha_jc", "白沙建材安全员", "企业用户", USCC_3, "", "", "13800000000"],
               ["baisha_insp", "白沙镇监管员", "监管人员", "", "白沙镇安全生产办公室", "", ""],
               ["baisha_aw", "白沙镇安委办", "安委办", "", "", BAISHA, ""]],
        "企业": [ENTERPRISE_HEADERS,
               ["白沙建材有限公司", USCC_3, BAISHA, "建材", "白沙镇工业区3号", 29.78, 119.71]],
        "监管单位": [UNIT_HEADERS,
                 ["白沙镇安全生产办公室", "乡镇", BAISHA, "", ""],
                 ["演示县住房和城乡建设局", "行业部门", "339901000000", "建材；化工", ""]],
        "区划": [REGION_HEADERS, [BAISHA, "白沙镇", "乡镇", "339901000000"]],
    }


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "headers", "keys"), [
    ("regions", "区划代码*,名称*,级别*,上级区划代码*", "code,name,level,parent_code"),
    ("units", "单位名称*,单位类型*,所属区划代码*,监管行业,监管区划",
     "name,kind,region_code,industries,supervised_regions"),
    ("enterprises", "企业名称*,统一社会信用代码*,所属乡镇区划代码*,行业*,地址,纬度,经度",
     "name,uscc,township_code,industry,address,lat,lon"),
    ("users", "用户名*,姓名*,角色*,所属企业统一社会信用代码,所属单位,所属区划代码,手机号",
     "username,display_name,role,enterprise_uscc,unit_name,region_code,phone"),
])
def test_csv_templates_have_chinese_headers_and_the_key_row(
    client: TestClient, auth: Auth, kind: str, headers: str, keys: str
) -> None:
    response = client.get(f"{URL}/templates/{kind}.csv", headers=auth("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="onboarding-{kind}.csv"' in response.headers["content-disposition"]
    assert response.content == codecs.BOM_UTF8 + f"{headers}\r\n{keys}\r\n".encode()


def test_the_xlsx_template_opens_with_openpyxl(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{URL}/template.xlsx", headers=auth("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["说明", "区划", "监管单位", "企业", "用户"]
    sheet = workbook["企业"]
    assert [c.value for c in sheet[1]] == ["企业名称*", "统一社会信用代码*", "所属乡镇区划代码*",
                                          "行业*", "地址", "纬度", "经度"]
    assert [c.value for c in sheet[2]] == ["name", "uscc", "township_code", "industry",
                                          "address", "lat", "lon"]
    assert sheet["B1"].comment.text.startswith("uscc：18 位")
    assert sheet["B3"].number_format == "@"  # codes stay text, not 9.13399E+17
    roles = workbook["用户"].data_validations.dataValidation
    assert [v.formula1 for v in roles] == ['"企业用户,监管人员,安委办,系统管理员"']
    notes = [row[0] for row in workbook["说明"].iter_rows(values_only=True) if row[0]]
    assert "工作表「企业」（enterprises）" in notes


def test_the_xlsx_template_round_trips(client: TestClient, auth: Auth, db: Session) -> None:
    """Download the template, fill in its sheets below the key row, import it."""
    template = load_workbook(io.BytesIO(
        client.get(f"{URL}/template.xlsx", headers=auth("admin")).content))
    for title, rows in good_workbook().items():
        for row in rows[1:]:
            template[title].append(row)
    out = io.BytesIO()
    template.save(out)
    before = counts(db)
    checked = upload(client, auth, out.getvalue())
    assert checked.status_code == 200, checked.text
    assert checked.json()["ok"] is True
    assert counts(db) == before
    committed = upload(client, auth, out.getvalue(), dry_run=False)
    assert committed.status_code == 201, committed.text
    assert committed.json()["created"] == {"regions": 1, "units": 2, "enterprises": 1,
                                           "users": 3}
    assert counts(db) == (before[0] + 1, before[1] + 2, before[2] + 1, before[3] + 3)


def test_a_csv_template_round_trips(client: TestClient, auth: Auth, db: Session) -> None:
    template = client.get(f"{URL}/templates/enterprises.csv", headers=auth("admin")).content
    row = f"城关精工有限公司,{USCC_4},339901100000,jixie,城关镇东路1号,,\r\n"
    data = template + row.encode()
    response = upload(client, auth, data, dry_run=False, kind="enterprises", name="e.csv")
    assert response.status_code == 201, response.text
    enterprise = db.scalars(select(Enterprise).where(Enterprise.uscc == USCC_4)).one()
    assert (enterprise.name, enterprise.region.code, enterprise.industry.name,
            enterprise.address, enterprise.lat) == (
        "城关精工有限公司", "339901100000", "机械", "城关镇东路1号", None)


# --- a good commit --------------------------------------------------------------------------


def test_a_commit_creates_everything_and_the_users_log_in_with_their_scope(
    client: TestClient, auth: Auth, db: Session
) -> None:
    response = upload(client, auth, xlsx(good_workbook()), dry_run=False)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ok"] is True and body["dry_run"] is False and body["problems"] == []
    assert body["summary"] == {
        "regions": {"rows": 1, "rows_with_problems": 0},
        "units": {"rows": 2, "rows_with_problems": 0},
        "enterprises": {"rows": 1, "rows_with_problems": 0},
        "users": {"rows": 3, "rows_with_problems": 0},
    }
    passwords = {p["username"]: p["password"] for p in body["initial_passwords"]}
    assert sorted(passwords) == ["baisha_aw", "baisha_insp", "baisha_jc"]
    assert all(len(p) == 12 for p in passwords.values())
    assert len(set(passwords.values())) == 3

    township = db.scalars(select(Region).where(Region.code == BAISHA)).one()
    assert (township.name, township.level, township.path) == (
        "白沙镇", RegionLevel.township, "/330000000000/339900000000/339901000000/339901102000/")
    office = db.scalars(select(Unit).where(Unit.name == "白沙镇安全生产办公室")).one()
    assert [r.code for r in office.regions] == [BAISHA] and office.industries == []
    bureau = db.scalars(select(Unit).where(Unit.name == "演示县住房和城乡建设局")).one()
    assert (bureau.kind, sorted(i.name for i in bureau.industries),
            [r.code for r in bureau.regions]) == ("department", ["化工", "建材"],
                                                  ["339901000000"])
    enterprise = db.scalars(select(Enterprise).where(Enterprise.uscc == USCC_3)).one()
    assert (enterprise.region_id, enterprise.industry.name, enterprise.lat,
            enterprise.lon) == (township.id, "建材", 29.78, 119.71)
    jc = db.scalars(select(User).where(User.username == "baisha_jc")).one()
    assert (jc.display_name, jc.phone, jc.role) == ("白沙建材安全员", "13800000000",
                                                     Role.enterprise)

    # The import is in the security audit log: what it created, and each account (never a
    # password).
    entries = list(db.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(["onboarding_import", "user_create"])).order_by(AuditEntry.seq)))
    assert [(e.action, e.username) for e in entries] == [("onboarding_import", "admin")] + [
        ("user_create", "admin")] * 3
    assert entries[0].detail["after"] == {
        "regions": [BAISHA], "units": ["演示县住房和城乡建设局", "白沙镇安全生产办公室"],
        "enterprises": [USCC_3], "users": ["baisha_aw", "baisha_insp", "baisha_jc"]}
    assert {e.detail["after"]["username"] for e in entries[1:]} == set(passwords)
    assert not any(p in str(e.detail) for e in entries for p in passwords.values())

    as_jc = login(client, "baisha_jc", passwords["baisha_jc"])
    as_insp = login(client, "baisha_insp", passwords["baisha_insp"])
    as_aw = login(client, "baisha_aw", passwords["baisha_aw"])
    assert client.get("/api/v1/me", headers=as_jc).json() == {
        "id": jc.id, "username": "baisha_jc", "role": "enterprise", "unit_id": None,
        "enterprise_id": enterprise.id, "region_id": None,
        "password_change_required": False, "otp_enabled": False}
    assert client.get("/api/v1/me", headers=as_insp).json()["unit_id"] == office.id
    assert client.get("/api/v1/me", headers=as_aw).json()["region_id"] == township.id

    new = report(client, lambda _: as_jc, "baisha_jc")
    old = report(client, auth, "ent_a")

    def visible(headers: dict[str, str]) -> set[int]:
        page = client.get("/api/v1/hazards", params={"limit": 100}, headers=headers).json()
        return {item["id"] for item in page["items"]} & {new["id"], old["id"]}

    assert new["enterprise_id"] == enterprise.id and new["region_id"] == township.id
    assert visible(as_jc) == {new["id"]}
    assert visible(as_insp) == {new["id"]}  # the township office supervises its township
    assert visible(as_aw) == {new["id"]}  # a township committee: its township only
    assert visible(auth("insp_town")) == {old["id"]}  # 城关镇's office never sees 白沙镇's
    assert visible(auth("anweiban")) == {new["id"], old["id"]}


def test_an_import_may_use_what_the_database_holds(client: TestClient, auth: Auth,
                                                    db: Session) -> None:
    """Users of existing enterprises, units and regions; English keys as headers; CSV."""
    data = csv_file([
        ["username", "display_name", "role", "enterprise_uscc", "unit_name", "region_code"],
        ["ent_a2", "企业A第二安全员", "enterprise", "91339901ma2b00001f", "", ""],
        ["insp_dept2", "应急局监管员二", "inspector", "", "演示县应急管理局", ""],
        ["admin_cg", "城关镇管理员", "admin", "", "", "339901100000"],
    ])
    response = upload(client, auth, data, dry_run=False, kind="users", name="users.csv")
    assert response.status_code == 201, response.text
    scopes = {u.username: (u.role, u.enterprise_id, u.unit_id, u.region_id) for u in db.scalars(
        select(User).where(User.username.in_(["ent_a2", "insp_dept2", "admin_cg", "ent_a",
                                              "insp_dept"])))}
    ent_a, insp = scopes["ent_a"], scopes["insp_dept"]
    chengguan = db.scalar(select(Region.id).where(Region.code == "339901100000"))
    assert scopes["ent_a2"] == ("enterprise", ent_a[1], None, None)
    assert scopes["insp_dept2"] == ("inspector", None, insp[2], None)
    assert scopes["admin_cg"] == ("admin", None, None, chengguan)


# --- problems -------------------------------------------------------------------------------


def bad_workbook() -> dict[str, list[list[Any]]]:
    return {
        "区划": [
            REGION_HEADERS,
            [BAISHA, "白沙镇", "乡镇", "339901000000"],  # 2: fine
            [BAISHA, "白沙镇二", "乡镇", "339901000000"],  # 3: duplicate of row 2
            ["339901100000", "城关镇", "乡镇", "339901000000"],  # 4: already there
            ["339901103000", "", "村", "339901000000"],  # 5: no name, bad level
            ["339902100000", "外县镇", "乡镇", "339900000000"],  # 6: parent is the city
            ["33990110400", "短码镇", "乡镇", "339901000000"],  # 7: 11 digits
            ["339801104000", "错码镇", "乡镇", "339901000000"],  # 8: not under 339901
        ],
        "监管单位": [
            UNIT_HEADERS,
            ["白沙镇安全生产办公室", "乡镇", BAISHA, "", ""],  # 2: fine (township of row 2)
            ["演示县应急管理局", "行业部门", "339901000000", "机械", ""],  # 3: exists
            ["演示县纺织办", "行业部门", "339901000000", "纺织", ""],  # 4: no such industry
            ["城关镇另一办", "乡镇", "339901000000", "机械", ""],  # 5: a county; industries
            ["住建局", "行业部门", "339901000000", "", ""],  # 6: no industries
            ["某局", "科室", "339901000000", "机械", ""],  # 7: bad kind
        ],
        "企业": [
            ENTERPRISE_HEADERS,
            ["白沙建材有限公司", USCC_3, BAISHA, "建材", "白沙镇工业区3号", 29.78, 119.71],
            ["坏码公司", "91339901MA2B00003N", "339901100000", "机械", "", "", ""],
            ["重复公司", USCC_3, "339901100000", "机械", "", "", ""],
            ["已有公司", "91339901MA2B00001F", "339901100000", "机械", "", "", ""],
            ["无乡镇公司", USCC_4, "339901199000", "机械", "", "", ""],
            ["县级公司", USCC_5, "339901000000", "机械", "", "", ""],
            ["无行业公司", USCC_6, "339901100000", "纺织", "", "", ""],
            ["", "=A2", "339901100000", "机械", "", 29.7, ""],
        ],
        "用户": [
            USER_HEADERS,
            ["baisha_jc", "白沙建材安全员", "企业用户", USCC_3, "", "", "13800000000"],
            # The demo's ent_a, in capitals: usernames are one account whatever their case.
            ["ENT_A", "重名", "企业用户", "91339901MA2B00001F", "", "", ""],
            ["baisha_jc", "重复", "企业用户", USCC_3, "", "", ""],
            ["x1_user", "某人", "群众", "", "", "", ""],
            ["no_ent", "某人", "企业用户", "91339901MA2B00009X", "", "", ""],
            ["insp_x", "某人", "监管人员", "", "消防大队", "", ""],
            ["anwei_x", "某人", "安委办", "", "", "", ""],
            ["insp_y", "某人", "监管人员", "91339901MA2B00001F", "演示县应急管理局", "", "12345"],
            ["管理员", "某人", "系统管理员", "", "", "339901000000", ""],
            ["admin_city", "某人", "系统管理员", "", "", "339900000000", ""],
        ],
    }


EXPECTED_PROBLEMS = [
    ("区划", 3, "code", "duplicate_in_file"),
    ("区划", 4, "code", "region_exists"),
    ("区划", 5, "name", "required"),
    ("区划", 5, "level", "level"),
    ("区划", 6, "parent_code", "region_out_of_scope"),
    ("区划", 7, "code", "region_code_format"),
    ("区划", 8, "parent_code", "code_prefix"),
    ("监管单位", 3, "name", "unit_exists"),
    ("监管单位", 4, "industries", "industry_unknown"),
    ("监管单位", 5, "region_code", "township_required"),
    ("监管单位", 5, "industries", "township_unit_extra"),
    ("监管单位", 6, "industries", "industries_required"),
    ("监管单位", 7, "kind", "unit_kind"),
    ("企业", 3, "uscc", "uscc_invalid"),
    ("企业", 4, "uscc", "duplicate_in_file"),
    ("企业", 5, "uscc", "uscc_exists"),
    ("企业", 6, "township_code", "region_unknown"),
    ("企业", 7, "township_code", "township_required"),
    ("企业", 8, "industry", "industry_unknown"),
    ("企业", 9, "name", "required"),
    ("企业", 9, "uscc", "formula"),
    ("企业", 9, "lon", "coordinates_pair"),
    ("用户", 3, "username", "username_exists"),
    ("用户", 4, "username", "duplicate_in_file"),
    ("用户", 5, "role", "role"),
    ("用户", 6, "enterprise_uscc", "enterprise_unknown"),
    ("用户", 7, "unit_name", "unit_unknown"),
    ("用户", 8, "region_code", "scope_required"),
    ("用户", 9, "enterprise_uscc", "scope_extra"),
    ("用户", 9, "phone", "phone"),
    ("用户", 10, "username", "username_format"),
    ("用户", 11, "region_code", "region_out_of_scope"),
]


def test_a_dry_run_reports_every_problem_by_sheet_row_and_column(
    client: TestClient, auth: Auth, db: Session
) -> None:
    before = counts(db)
    response = upload(client, auth, xlsx(bad_workbook()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False and body["created"] is None
    assert where(body["problems"]) == EXPECTED_PROBLEMS
    assert body["problem_count"] == 32
    assert body["summary"] == {
        "regions": {"rows": 7, "rows_with_problems": 6},
        "units": {"rows": 6, "rows_with_problems": 5},
        "enterprises": {"rows": 8, "rows_with_problems": 7},
        "users": {"rows": 10, "rows_with_problems": 9},
    }
    by_place = {(p["sheet"], p["row"], p["column"]): p for p in body["problems"]}
    assert by_place[("企业", 3, "uscc")] == {
        "code": "uscc_invalid",
        "message": "统一社会信用代码不正确：校验位（第 18 位）应为 M，实际为 N",
        "kind": "enterprises", "sheet": "企业", "row": 3, "column": "uscc",
        "header": "统一社会信用代码", "cell": "B3", "value": "91339901MA2B00003N"}
    assert by_place[("企业", 4, "uscc")]["message"] == "与第 2 行重复"
    assert by_place[("企业", 9, "uscc")]["value"] == "=A2"  # shown, never evaluated
    assert by_place[("企业", 8, "industry")]["message"] == (
        "系统中没有行业「纺织」（可用：化工、建材、机械）")
    assert by_place[("区划", 6, "parent_code")]["message"] == (
        "区划 339900000000 不在您的管辖范围内")
    assert by_place[("区划", 8, "parent_code")]["message"] == (
        "区划代码应以上级区划代码的前 6 位 339901 开头")
    assert by_place[("用户", 8, "region_code")]["message"] == "角色为安委办时必填"
    assert counts(db) == before


def test_a_commit_with_one_bad_row_writes_nothing(client: TestClient, auth: Auth,
                                                  db: Session) -> None:
    sheets = good_workbook()
    sheets["企业"].append(["坏码公司", "91339901MA2B00004R", "339901100000", "机械", "", "", ""])
    before = counts(db)
    response = upload(client, auth, xlsx(sheets), dry_run=False)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "导入文件有 1 处问题，未写入任何数据"
    assert where(body["problems"]) == [("企业", 3, "uscc", "uscc_invalid")]
    assert body["problems"][0]["message"] == (
        "统一社会信用代码不正确：校验位（第 18 位）应为 Q，实际为 R")
    assert counts(db) == before
    assert db.scalar(select(Region.id).where(Region.code == BAISHA)) is None


def test_the_same_file_as_a_commit_is_refused_with_the_same_problems(
    client: TestClient, auth: Auth, db: Session
) -> None:
    before = counts(db)
    response = upload(client, auth, xlsx(bad_workbook()), dry_run=False)
    assert response.status_code == 422
    assert where(response.json()["problems"]) == EXPECTED_PROBLEMS
    assert counts(db) == before


def test_header_problems_and_a_missing_required_column(client: TestClient, auth: Auth) -> None:
    data = csv_file([["企业名称", "统一社会信用代码", "行业", "行业", "备注栏"],
                     ["甲公司", USCC_4, "机械", "机械", "x"]])
    response = upload(client, auth, data, kind="enterprises", name="e.csv")
    assert response.status_code == 200, response.text
    problems = response.json()["problems"]
    assert [(p["cell"], p["code"], p["value"] or p["column"]) for p in problems] == [
        ("D1", "duplicate_column", "行业"),
        ("E1", "unknown_column", "备注栏"),
        (None, "missing_column", "township_code"),
    ]
    assert problems[2]["message"] == "缺少必填列「所属乡镇区划代码」"
    # No row reports the missing column again.
    assert response.json()["summary"]["enterprises"] == {"rows": 1, "rows_with_problems": 0}


def test_unknown_sheets_are_reported_and_the_notes_sheet_is_skipped(
    client: TestClient, auth: Auth
) -> None:
    response = upload(client, auth, xlsx({"说明": [["随便写"]], "Sheet1": [["a"]]}))
    assert [(p["sheet"], p["code"]) for p in response.json()["problems"]] == [
        ("Sheet1", "unknown_sheet")]
    response = upload(client, auth, xlsx({"说明": [["随便写"]]}))
    assert [p["code"] for p in response.json()["problems"]] == ["empty"]


# --- encodings and limits -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_in_gb18030(
    client: TestClient, auth: Auth, db: Session, encoding: str
) -> None:
    data = csv_file([ENTERPRISE_HEADERS, ["清溪五金有限公司", USCC_5, "339901101000", "机械",
                                          "清溪镇", "", ""]], encoding)
    response = upload(client, auth, data, dry_run=False, kind="enterprises", name="e.csv")
    assert response.status_code == 201, response.text
    assert db.scalar(select(Enterprise.name).where(Enterprise.uscc == USCC_5)) == "清溪五金有限公司"


def test_a_csv_needs_its_kind_and_unreadable_files_are_refused(
    client: TestClient, auth: Auth
) -> None:
    data = csv_file([ENTERPRISE_HEADERS])
    response = upload(client, auth, data, name="e.csv")
    assert response.status_code == 422
    assert "kind" in response.json()["detail"]
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)
    response = upload(client, auth, old_excel, name="old.xls")
    assert response.status_code == 422
    assert response.json()["detail"] == "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV"
    response = upload(client, auth, b"PK\x03\x04 not really a zip", name="x.xlsx")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("无法读取 XLSX 文件")
    response = client.post(URL, headers=auth("admin"))
    assert response.status_code == 422


def test_size_and_row_limits(client: TestClient, auth: Auth, settings) -> None:
    rows = [ENTERPRISE_HEADERS] + [["公司", USCC_4, "339901100000", "机械", "", "", ""]] * 3
    settings.import_max_rows = 2
    response = upload(client, auth, csv_file(rows), kind="enterprises", name="e.csv")
    assert response.status_code == 422
    assert response.json()["detail"] == "数据行超过 2 行上限，请分批导入"
    settings.import_max_rows = 3
    assert upload(client, auth, csv_file(rows), kind="enterprises", name="e.csv"
                  ).status_code == 200
    settings.import_max_bytes = 100
    response = upload(client, auth, csv_file(rows), kind="enterprises", name="e.csv")
    assert response.status_code == 413


def test_a_users_limit_per_file(client: TestClient, auth: Auth, settings) -> None:
    settings.import_max_users = 1
    response = upload(client, auth, xlsx(good_workbook()))
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "用户超过 1 个上限（每个用户的密码哈希需要时间），请分批导入")


# --- who may import -------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["ent_a", "insp_dept", "insp_town", "anweiban"])
def test_only_an_admin_may_import_or_download_templates(
    client: TestClient, auth: Auth, username: str
) -> None:
    assert client.get(f"{URL}/template.xlsx", headers=auth(username)).status_code == 403
    assert client.get(f"{URL}/templates/users.csv", headers=auth(username)).status_code == 403
    response = upload(client, auth, xlsx(good_workbook()), dry_run=False, username=username)
    assert response.status_code == 403
    assert response.json() == {"detail": "您的角色不能进行「初始化导入」操作"}


def test_anonymous_callers_get_401(client: TestClient) -> None:
    assert client.get(f"{URL}/template.xlsx").status_code == 401
    assert client.post(URL, files={"file": ("x.xlsx", b"x")}).status_code == 401


def test_the_admin_of_another_county_cannot_import_into_this_one(
    client: TestClient, auth: Auth, db: Session, clock
) -> None:
    city = db.scalars(select(Region).where(Region.code == "339900000000")).one()
    other = Region(code="339902000000", name="邻县", level=RegionLevel.county, parent=city,
                   path=child_path(city, "339902000000"))
    db.add(other)
    db.flush()
    admin_b = create_user(db, username="admin_b", password="admin-b-pass", role=Role.admin,
                          clock=clock, region_id=other.id)
    db.commit()  # ends the test's savepoint: a refused request rolls back only its own
    headers = {"Authorization": f"Bearer {issue_token(admin_b.id, clock.now())}"}
    sheets = {
        "区划": [REGION_HEADERS, ["339901109000", "插入镇", "乡镇", "339901000000"]],
        "企业": [ENTERPRISE_HEADERS, ["越界公司", USCC_6, "339901100000", "机械", "", "", ""]],
        "用户": [USER_HEADERS,
               ["b_ent", "某人", "企业用户", "91339901MA2B00001F", "", "", ""],
               ["b_insp", "某人", "监管人员", "", "演示县应急管理局", "", ""],
               ["b_aw", "某人", "安委办", "", "", "339901000000", ""]],
    }
    before = counts(db)
    response = upload(client, auth, xlsx(sheets), dry_run=False, headers=headers)
    assert response.status_code == 422
    assert where(response.json()["problems"]) == [
        ("区划", 2, "parent_code", "region_out_of_scope"),
        ("企业", 2, "township_code", "region_out_of_scope"),
        ("用户", 2, "enterprise_uscc", "enterprise_unknown"),
        ("用户", 3, "unit_name", "unit_unknown"),
        ("用户", 4, "region_code", "region_out_of_scope"),
    ]
    assert counts(db) == before
    # Its own county is fine.
    own = {"区划": [REGION_HEADERS, ["339902100000", "邻县一镇", "乡镇", "339902000000"]],
           "企业": [ENTERPRISE_HEADERS, ["邻县公司", USCC_6, "339902100000", "机械", "", "", ""]]}
    response = upload(client, auth, xlsx(own), dry_run=False, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == {"regions": 1, "units": 0, "enterprises": 1,
                                          "users": 0}


def test_kind_limits_a_workbook_to_one_sheet(client: TestClient, auth: Auth, db: Session) -> None:
    """With kind=regions only the 区划 sheet is read: the rest of the workbook is ignored."""
    sheets = good_workbook()
    sheets["企业"].append(["坏码公司", "91339901MA2B00004R", "339901100000", "机械", "", "", ""])
    response = upload(client, auth, xlsx(sheets), dry_run=False, kind="regions")
    assert response.status_code == 201, response.text
    assert response.json()["created"] == {"regions": 1, "units": 0, "enterprises": 0,
                                          "users": 0}
    assert db.scalar(select(Region.name).where(Region.code == BAISHA)) == "白沙镇"


def test_numbers_typed_into_code_cells_and_full_width_codes_are_read_as_codes(
    client: TestClient, auth: Auth, db: Session
) -> None:
    """Excel keeps 339901102000 typed into a General cell as a number; a full-width Ｍ typed
    with a Chinese input method is the letter M."""
    sheets = {
        "区划": [REGION_HEADERS, [339901102000, "白沙镇", "township", 339901000000]],
        "企业": [ENTERPRISE_HEADERS,
               ["白沙建材有限公司", "９１３３９９０１ＭＡ２Ｂ００００３Ｍ", 339901102000, "jiancai",
                "", "", ""]],
        "用户": [USER_HEADERS, ["baisha_jc", "安全员", "enterprise", USCC_3.lower(), "", "",
                              13800000000]],
    }
    response = upload(client, auth, xlsx(sheets), dry_run=False)
    assert response.status_code == 201, response.text
    enterprise = db.scalars(select(Enterprise).where(Enterprise.uscc == USCC_3)).one()
    assert enterprise.region.code == BAISHA
    user = db.scalars(select(User).where(User.username == "baisha_jc")).one()
    assert (user.enterprise_id, user.phone) == (enterprise.id, "13800000000")


def test_a_line_break_in_a_name_is_reported(client: TestClient, auth: Auth) -> None:
    data = csv_file([REGION_HEADERS]) + f'{BAISHA},"白沙\n镇",乡镇,339901000000\r\n'.encode()
    response = upload(client, auth, data, kind="regions", name="r.csv")
    assert [(p["row"], p["column"], p["code"]) for p in response.json()["problems"]] == [
        (2, "name", "control")]
