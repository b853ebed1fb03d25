"""The criteria catalogue: what migrations 0003 and 0025 loaded, search, documents, import.

Rows written by these tests are either copied from the packaged CSVs or marked as test text
(「测试条目」): no criteria text is made up here.
"""

import csv
import io
import re
from importlib.resources import files
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CriteriaDocument, Criterion, User
from app.services.criteria.catalogue import ALL_COLUMNS, COLUMNS, get_active_criterion
from tests.api.helpers import Auth, report

URL = "/api/v1/criteria"
# Per standard: its catalogue file, and the rows shipped and verified (the README's table).
EXPECTED = {"GM2023": ("gm2023.csv", 37, 15), "HG2017": ("hg2017.csv", 20, 14),
            "MK2021": ("mk2021.csv", 15, 13)}
TOTAL = sum(shipped for _, shipped, _ in EXPECTED.values())


def csv_rows(name: str) -> list[dict[str, str]]:
    """The rows of a shipped catalogue file (app/data/criteria/catalogue/)."""
    data = files("app").joinpath("data", "criteria", "catalogue", name).read_text(
        encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(data, newline="")))


def readme_table() -> dict[str, tuple[int | None, int, int]]:
    """The README's table: code → (clauses expected or None when unknown, shipped, verified)."""
    text = files("app").joinpath("data", "criteria", "README.md").read_text(encoding="utf-8")
    table: dict[str, tuple[int | None, int, int]] = {}
    for line in text.splitlines():
        match = re.match(r"\|\s*`([A-Z0-9]+)`\s*\|[^|]*\|\s*([0-9]+|\?)[^|]*\|\s*([0-9]+)\s*\|"
                         r"\s*([0-9]+)\s*\|", line)
        if match:
            code, expected, shipped, verified = match.groups()
            table[code] = (None if expected == "?" else int(expected), int(shipped),
                           int(verified))
    return table


def csv_bytes(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS,
              encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client: TestClient, auth: Auth, data: bytes, username: str = "admin",
           **fields: str) -> Any:
    return client.post(f"{URL}/import", files={"file": ("criteria.csv", data, "text/csv")},
                       data=fields, headers=auth(username))


def search(client: TestClient, auth: Auth, **params: Any) -> dict[str, Any]:
    response = client.get(URL, params={"limit": 200, **params}, headers=auth("ent_a"))
    assert response.status_code == 200, response.text
    return response.json()


def documents(client: TestClient, auth: Auth) -> dict[str, dict[str, Any]]:
    response = client.get(f"{URL}/documents", headers=auth("insp_town"))
    assert response.status_code == 200, response.text
    return {d["code"]: d for d in response.json()}


# Entries migration 0025 superseded: GM2023 第一、二、十五条 and HG2017's old item 8.
SHIPPED_SUPERSEDED = 4


def superseded_count(db: Session) -> int:
    return db.scalar(select(func.count()).where(Criterion.superseded_at.is_not(None))) or 0


def active_count(db: Session, code: str) -> int:
    return db.scalar(
        select(func.count()).select_from(Criterion).join(Criterion.document)
        .where(CriteriaDocument.code == code, Criterion.superseded_at.is_(None))
    ) or 0


# --- what the migration loaded --------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_the_migrations_loaded_exactly_the_catalogue_rows(db: Session, code: str) -> None:
    name, count, verified = EXPECTED[code]
    rows = csv_rows(name)
    assert len(rows) == count
    assert readme_table()[code][1:] == (count, verified)
    document = db.scalars(select(CriteriaDocument).where(CriteriaDocument.code == code)).one()
    assert (document.issuing_number, document.year) == (rows[0]["doc_number"],
                                                        int(rows[0]["doc_year"]))
    entries = [c for c in document.criteria if c.superseded_at is None]
    assert len(entries) == count
    assert sum(e.verification == "verified" for e in entries) == verified
    for position, (row, entry) in enumerate(zip(rows, entries, strict=True), start=1):
        assert entry.position == position
        assert document.title == row["doc_title"]
        assert (entry.article, entry.item, entry.industry, entry.text, entry.source_url) == (
            row["article"], row["item"], row["industry"], row["text"], row["source_url"])
        status, _, note = row["verification"].partition(":")
        assert (entry.verification, entry.verification_note) == (status, note.strip())
        assert note.strip(), "every row says on what its status rests"
        assert entry.source_url, "every shipped row cites its source"
        assert entry.search_text.split("\n")[2] == entry.text.lower()
        assert entry.search_text.split("\n")[3].isascii()  # the pinyin initials
        assert str(entry.source_date or "") == row["source_date"]


def test_the_readme_table_covers_every_shipped_standard() -> None:
    table = readme_table()
    assert set(table) >= set(EXPECTED)
    for code, (expected, shipped, verified) in table.items():
        assert verified <= shipped
        assert expected is None or shipped <= expected, code


def test_purpose_scope_and_commencement_are_not_criteria(client: TestClient, auth: Auth,
                                                          db: Session) -> None:
    general = search(client, auth, industry="通用", document="GM2023")
    assert [(i["article"], i["item"]) for i in general["items"]] == [
        ("第三条", "（一）"), ("第三条", "（二）"), ("第三条", "（三）"), ("第十四条", "")]
    # Superseded, not deleted: a hazard citing 第一条 still reads its text.
    old = search(client, auth, q="为了准确判定", include_superseded=True)["items"]
    assert [(i["article"], i["superseded"], i["superseded_by_id"]) for i in old] == [
        ("第一条", True, None)]


def test_hg2017_item_8_brackets_were_corrected_and_the_old_text_kept(
        client: TestClient, auth: Auth) -> None:
    [new] = search(client, auth, q="硫化氢气体管道")["items"]
    assert "除厂区（包括化工园区、工业园区）外" in new["text"]
    assert new["verification"] == "verified"
    [old] = [i for i in search(client, auth, q="硫化氢气体管道", include_superseded=True)[
        "items"] if i["superseded"]]
    assert "除厂区(包括化工园区、工业园区）外" in old["text"]
    assert old["superseded_by_id"] == new["id"] and old["in_force"] is False


def test_documents_show_completeness_and_verification_counts(client: TestClient,
                                                             auth: Auth) -> None:
    docs = documents(client, auth)
    assert set(docs) >= {"GM2023", "HG2017", "MK2021"}
    gm, hg, mk = docs["GM2023"], docs["HG2017"], docs["MK2021"]
    assert (gm["completeness"], gm["issuing_number"], gm["year"]) == (
        "partial", "应急管理部令第10号", 2023)
    assert "36" in gm["completeness_note"] and "第八条" in gm["completeness_note"]
    assert gm["completeness_label"].startswith("不完整")
    assert (gm["verified"], gm["single_source"], gm["unverified"], gm["superseded"]) == (
        15, 22, 0, 3)
    assert gm["industries"] == ["通用", "冶金", "有色", "建材", "机械", "烟草", "粉尘涉爆",
                                "涉氨制冷", "有限空间"]
    assert (hg["completeness"], hg["issuing_number"]) == ("complete", "安监总管三〔2017〕121号")
    assert (hg["verified"], hg["single_source"], hg["unverified"], hg["superseded"]) == (
        14, 0, 6, 1)
    assert hg["title"] == "化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）"
    assert (mk["issuing_number"], mk["year"], mk["completeness"]) == (
        "应急管理部令第4号", 2020, "partial")
    assert (mk["verified"], mk["single_source"], mk["industries"]) == (13, 2, ["煤矿"])
    assert gm["superseded_by"] is None


# --- search -----------------------------------------------------------------------------------


def test_search_by_words_is_a_case_insensitive_substring_of_text_article_or_item(
        client: TestClient, auth: Auth) -> None:
    page = search(client, auth, q="特种作业人员未持证上岗")
    assert [(i["document"]["code"], i["item"]) for i in page["items"]] == [("HG2017", "2")]
    item = page["items"][0]
    assert item["text"] == "特种作业人员未持证上岗"
    assert item["verification"] == "verified" and item["verification_label"] == "已核实"
    assert item["document"]["completeness"] == "complete"
    assert item["citation"] == \
        "《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》第2项"
    assert item["source_url"].startswith("https://shanxi.news.163.com/")
    assert item["superseded"] is False

    lower = search(client, auth, q="aod炉")["items"]  # the text has 「AOD炉」
    assert [(i["article"], i["item"]) for i in lower] == [("第四条", "（四）")]
    assert lower[0]["verification"] == "single_source"
    assert lower[0]["verification_label"].startswith("仅一个来源")
    assert lower[0]["verification_note"].startswith("traditional-character mirror only")
    assert lower[0]["citation"] == "《工贸企业重大事故隐患判定标准》第四条（四）"

    both = search(client, auth, q="铝加工 浇铸炉")["items"]  # every word must occur
    assert [i["item"] for i in both] == ["（八）", "（九）"]
    assert [i["item"] for i in search(client, auth, q="第十一条")["items"]] == \
        ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）", "（七）", "（八）"]
    assert [(i["document"]["code"], i["article"]) for i in search(client, auth, q="（十三）")[
        "items"]] == [("GM2023", "第五条"), ("MK2021", "第三条")]
    dust = search(client, auth, q="粉尘")
    assert dust["total"] == len(dust["items"]) > 0
    assert all("粉尘" in i["text"] for i in dust["items"])
    assert search(client, auth, q="100%")["total"] == 0  # LIKE wildcards are literal


def test_search_by_industry_and_document(client: TestClient, auth: Auth) -> None:
    nonferrous = search(client, auth, industry="有色")
    assert nonferrous["total"] == 6
    assert {i["industry"] for i in nonferrous["items"]} == {"有色"}
    assert search(client, auth, industry=["有色", "烟草"])["total"] == 8
    assert search(client, auth, industry="有色", q="煤气")["total"] == 2
    chemical = search(client, auth, document="hg2017")
    assert chemical["total"] == 20
    assert [i["item"] for i in chemical["items"]] == [str(n) for n in range(1, 21)]
    page = search(client, auth, limit=5, offset=37)
    assert page["total"] == TOTAL
    assert [(i["document"]["code"], i["item"]) for i in page["items"]] == \
        [("HG2017", str(n)) for n in range(1, 6)]
    assert search(client, auth, industry="不存在的行业")["total"] == 0


def test_the_catalogue_needs_a_token(client: TestClient) -> None:
    for path in ("", "/documents", "/1"):
        assert client.get(URL + path).status_code == 401
    assert client.post(f"{URL}/import", files={"file": ("a.csv", b"x", "text/csv")}
                       ).status_code == 401


def test_one_entry_by_id_and_unknown_ids(client: TestClient, auth: Auth, db: Session) -> None:
    entry_id = db.scalar(select(Criterion.id).where(Criterion.text == "特种作业人员未持证上岗"))
    response = client.get(f"{URL}/{entry_id}", headers=auth("anweiban"))
    assert response.status_code == 200
    assert response.json()["item"] == "2"
    for unknown in (0, -1, 10**6, 2**31, 2**63):
        assert client.get(f"{URL}/{unknown}", headers=auth("anweiban")).status_code == 404


def test_search_refuses_control_characters(client: TestClient, auth: Auth) -> None:
    response = client.get(URL, params={"q": "粉尘\x00"}, headers=auth("ent_a"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


# --- admin import -----------------------------------------------------------------------------


def test_an_import_replaces_the_entries_of_its_document_only(
        client: TestClient, auth: Auth, db: Session) -> None:
    hg = csv_rows("hg2017.csv")
    before = {c.item: c.id for c in db.scalars(
        select(Criterion).join(Criterion.document).where(CriteriaDocument.code == "HG2017",
                                                         Criterion.superseded_at.is_(None)))}
    gm_before = [(c.id, c.text, c.superseded_at) for c in db.scalars(
        select(Criterion).join(Criterion.document).where(CriteriaDocument.code == "GM2023")
        .order_by(Criterion.id))]
    changed = dict(hg[0], text="测试条目：第1项改写后的文字（非标准原文）",
                   verification="unverified: 测试")
    confirmed = dict(hg[14], verification="verified: 测试用核对依据")
    added = dict(hg[0], item="21", text="测试条目：新增的一项（非标准原文）",
                 verification="unverified: 测试")
    rows = [changed, *hg[1:14], confirmed, added]  # items 16-20 dropped

    response = upload(client, auth, csv_bytes(rows), completeness="partial",
                      completeness_note="测试：只导入部分条目")
    assert response.status_code == 200, response.text
    [result] = response.json()["documents"]
    assert result["code"] == "HG2017" and result["created"] is False
    assert (result["added"], result["kept"], result["superseded"]) == (2, 14, 6)
    assert (result["verified"], result["single_source"], result["unverified"]) == (14, 0, 2)
    assert (result["completeness"], result["completeness_note"]) == ("partial",
                                                                       "测试：只导入部分条目")

    page = search(client, auth, document="HG2017")
    assert [i["item"] for i in page["items"]] == [str(n) for n in range(1, 16)] + ["21"]
    ids = {i["item"]: i["id"] for i in page["items"]}
    # Unchanged article, item and text: the same row, so citations stay on an active entry.
    assert all(ids[str(n)] == before[str(n)] for n in range(2, 16))
    assert ids["1"] != before["1"]
    assert page["items"][14]["verification"] == "verified"
    assert page["items"][14]["verification_note"] == "测试用核对依据"
    # Replaced entries are kept, superseded, and hidden from search unless asked for.
    assert search(client, auth, q="安全阀、爆破片")["total"] == 1  # item 15, kept
    assert search(client, auth, q="未制定操作规程和工艺控制指标")["total"] == 0
    old = search(client, auth, q="未制定操作规程和工艺控制指标", include_superseded=True)
    assert [(i["id"], i["superseded"]) for i in old["items"]] == [(before["17"], True)]
    assert search(client, auth, q=hg[0]["text"], include_superseded=True)["items"][0][
        "id"] == before["1"]
    gone = client.get(f"{URL}/{before['20']}", headers=auth("ent_a")).json()
    assert gone["superseded"] is True and gone["superseded_at"].endswith("+08:00")
    assert get_active_criterion(db, before["20"]) is None
    assert get_active_criterion(db, ids["21"]).text.startswith("测试条目")
    assert get_active_criterion(db, 2**63) is None

    docs = documents(client, auth)
    assert (docs["HG2017"]["verified"], docs["HG2017"]["unverified"],
            docs["HG2017"]["superseded"]) == (14, 2, 6 + 1)
    # The other document is untouched.
    assert [(c.id, c.text, c.superseded_at) for c in db.scalars(
        select(Criterion).join(Criterion.document).where(CriteriaDocument.code == "GM2023")
        .order_by(Criterion.id))] == gm_before
    assert (docs["GM2023"]["completeness"], docs["GM2023"]["verified"]) == ("partial", 15)
    # A replaced entry names the one that replaced it (same article and item).
    assert client.get(f"{URL}/{before['1']}", headers=auth("ent_a")).json()[
        "superseded_by_id"] == ids["1"]
    assert gone["superseded_by_id"] is None  # item 20 has no successor


def test_reimporting_the_same_file_changes_nothing_but_completeness(
        client: TestClient, auth: Auth, db: Session) -> None:
    data = files("app").joinpath("data", "criteria", "catalogue", "gm2023.csv").read_bytes()
    before = [c.id for c in db.scalars(select(Criterion).order_by(Criterion.id))]
    response = upload(client, auth, data, completeness="complete")
    assert response.status_code == 200, response.text
    [result] = response.json()["documents"]
    assert (result["added"], result["kept"], result["superseded"]) == (0, 37, 0)
    assert (result["issuing_number"], result["year"]) == ("应急管理部令第10号", 2023)
    assert (result["completeness"], result["completeness_note"]) == ("complete", "")
    assert [c.id for c in db.scalars(select(Criterion).order_by(Criterion.id))] == before


def test_an_import_may_add_a_new_document(client: TestClient, auth: Auth, db: Session) -> None:
    rows = [{"doc_code": "test01", "doc_title": "测试文件", "article": "第一条", "item": "",
             "industry": "测试", "text": "测试条目（非标准原文）", "source_url": "",
             "verification": ""}]
    response = upload(client, auth, csv_bytes(rows), issuing_number="测试〔2026〕1号")
    assert response.status_code == 200, response.text
    [result] = response.json()["documents"]
    assert (result["code"], result["created"], result["added"]) == ("TEST01", True, 1)
    # Nothing said about completeness: a new document is not presented as complete.
    assert (result["completeness"], result["completeness_note"]) == ("partial",
                                                                       "导入时未说明是否完整")
    assert result["issuing_number"] == "测试〔2026〕1号"
    [entry] = search(client, auth, document="TEST01")["items"]
    assert (entry["verification"], entry["verification_note"]) == ("unverified", "")
    assert entry["verification_label"].startswith("未核实")


def test_a_bad_file_is_refused_whole_with_errors_by_row_and_column(
        client: TestClient, auth: Auth, db: Session) -> None:
    hg = csv_rows("hg2017.csv")
    rows = [
        hg[0],
        dict(hg[1], text=" "),  # row 3
        dict(hg[2], verification="checked"),  # row 4
        dict(hg[3], item="1"),  # row 5: the same item as row 2
        dict(hg[4], doc_title="另一个标题"),  # row 6
        dict(hg[5], doc_code=""),  # row 7
        dict(hg[6], doc_code="GM 2023"),  # row 8
        dict(hg[7], industry="行" * 51),  # row 9
    ]
    response = upload(client, auth, csv_bytes(rows), completeness="complete")
    assert response.status_code == 422, response.text
    errors = {(e["row"], e["column"]): e for e in response.json()["detail"]}
    assert set(errors) == {(3, "text"), (4, "verification"), (5, "item"), (6, "doc_title"),
                           (7, "doc_code"), (8, "doc_code"), (9, "industry")}
    assert errors[(3, "text")]["msg"] == "必填"
    assert errors[(3, "text")]["loc"] == ["body", "file", 3, "text"]
    assert "第 2 行" in errors[(5, "item")]["msg"]
    # Nothing written, the good rows included.
    assert active_count(db, "HG2017") == 20
    assert superseded_count(db) == SHIPPED_SUPERSEDED
    assert documents(client, auth)["HG2017"]["completeness"] == "complete"


def test_rows_keep_their_numbers_across_blank_lines(client: TestClient, auth: Auth) -> None:
    hg = csv_rows("hg2017.csv")
    header, first, second = csv_bytes([hg[0], dict(hg[1], text="")]).split(b"\r\n")[:3]
    data = b"\r\n".join([header, first, b"", b",,,,,,,", second, b""])
    response = upload(client, auth, data)
    assert response.status_code == 422, response.text
    assert [(e["row"], e["column"]) for e in response.json()["detail"]] == [(5, "text")]


@pytest.mark.parametrize(("data", "expected"), [
    (csv_bytes([{"doc_code": "T", "doc_title": "t", "text": "x"}], columns=COLUMNS[:-1]),
     [(1, "verification")]),
    (b"doc_code,doc_title,article,item,industry,text,source_url,verification,extra\r\n"
     b"T,t,,,,x,,,y\r\n", [(1, "extra")]),
    (b"doc_code,doc_title,article,item,industry,text,source_url,verification\r\nT,t,,1\r\n",
     [(2, "")]),
])
def test_a_bad_header_or_row_shape_is_refused(client: TestClient, auth: Auth, data: bytes,
                                              expected: list[tuple[int, str]]) -> None:
    response = upload(client, auth, data)
    assert response.status_code == 422, response.text
    assert [(e["row"], e["column"]) for e in response.json()["detail"]] == expected


def test_file_level_problems(client: TestClient, auth: Auth, db: Session) -> None:
    hg = csv_rows("hg2017.csv")
    gbk = upload(client, auth, csv_bytes(hg[:1], encoding="gbk"))
    assert gbk.status_code == 422
    assert "UTF-8" in gbk.json()["detail"][0]["msg"]
    assert upload(client, auth, csv_bytes([])).status_code == 422  # header only
    assert upload(client, auth, csv_bytes(hg[:1]), completeness="full").json()["detail"][0][
        "loc"] == ["body", "completeness"]
    missing = client.post(f"{URL}/import", data={"completeness": "complete"},
                          headers=auth("admin"))
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "file"]
    assert active_count(db, "HG2017") == 20
    # Excel's "CSV UTF-8" starts with a byte-order mark: accepted.
    bom = upload(client, auth, b"\xef\xbb\xbf" + csv_bytes(hg))
    assert bom.status_code == 200, bom.text
    assert bom.json()["documents"][0]["kept"] == 20


@pytest.mark.parametrize("username", ["ent_a", "insp_dept", "anweiban"])
def test_only_an_admin_may_import(client: TestClient, auth: Auth, db: Session,
                                  username: str) -> None:
    rows = [dict(r, text="测试条目（非标准原文）" + r["item"])
            for r in csv_rows("hg2017.csv")]
    response = upload(client, auth, csv_bytes(rows), username=username)
    assert response.status_code == 403
    assert response.json()["detail"] == "您的角色不能进行「导入判定标准」操作"
    assert active_count(db, "HG2017") == 20
    assert superseded_count(db) == SHIPPED_SUPERSEDED


# --- the clause picker: initials, enterprise, keyset pages ------------------------------------


def enterprise_id(db: Session, username: str) -> int:
    return db.scalars(select(User.enterprise_id).where(User.username == username)).one()


def test_dust_finds_article_11_by_keyword_and_by_pinyin_initials(client: TestClient,
                                                                   auth: Auth) -> None:
    by_word = search(client, auth, q="粉尘", industry="粉尘涉爆")["items"]
    assert {i["article"] for i in by_word} == {"第十一条"} and len(by_word) == 5
    assert all("粉尘" in i["text"] for i in by_word)
    # 「粉尘爆炸危险场所设置在非框架结构…」: typed as its initials, in any case.
    [first] = search(client, auth, q="FCBZWXCSSZZFKJ")["items"]
    assert (first["article"], first["item"]) == ("第十一条", "（一）")
    assert search(client, auth, q="fcbz")["total"] >= 1
    # Initials combine with Chinese words (every word must match).
    assert [i["item"] for i in search(client, auth, q="fcbz 框架")["items"]] == ["（一）"]
    special = search(client, auth, q="tzzyry")["items"]  # 特种作业人员
    assert {(i["document"]["code"], i["item"]) for i in special} == {("GM2023", "（二）"),
                                                                     ("HG2017", "2")}
    assert search(client, auth, q="zzzzzzzz")["total"] == 0


def test_the_picker_offers_what_applies_to_the_enterprise(client: TestClient, auth: Auth,
                                                           db: Session) -> None:
    ent_a = enterprise_id(db, "ent_a")
    page = search(client, auth, enterprise_id=ent_a)  # 机械: its own and 工贸's cross-cutting
    assert {i["industry"] for i in page["items"]} == {"机械", "通用", "粉尘涉爆", "涉氨制冷",
                                                      "有限空间"}
    assert page["total"] == 2 + 4 + 8 + 2 + 1
    assert search(client, auth, enterprise_id=ent_a, q="粉尘")["total"] == 5
    assert search(client, auth, enterprise_id=ent_a, industry="机械")["total"] == 2
    assert search(client, auth, enterprise_id=ent_a, industry="煤矿")["total"] == 0
    inspector = client.get(URL, params={"enterprise_id": ent_a}, headers=auth("insp_dept"))
    assert inspector.status_code == 200 and inspector.json()["total"] == page["total"]
    # An enterprise the caller may not report for is not there (404).
    ent_b = enterprise_id(db, "ent_b")
    for username, target in (("ent_a", ent_b), ("admin", ent_a), ("ent_a", 2**63)):
        response = client.get(URL, params={"enterprise_id": target}, headers=auth(username))
        assert response.status_code == 404, (username, response.text)


def test_keyset_pages_cover_the_catalogue_once_in_order(client: TestClient, auth: Auth) -> None:
    whole = search(client, auth)["items"]
    assert len(whole) == TOTAL
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        response = client.get(URL, params=params, headers=auth("ent_a"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == TOTAL
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in whole]
    filtered = client.get(URL, params={"q": "粉尘", "limit": 3}, headers=auth("ent_a")).json()
    after = client.get(URL, params={"q": "粉尘", "limit": 3, "cursor": filtered["next_cursor"]},
                       headers=auth("ent_a")).json()
    assert {i["id"] for i in filtered["items"]}.isdisjoint(i["id"] for i in after["items"])
    assert all("粉尘" in i["text"] for i in after["items"])
    for bad in ("x", "aDo6MQ", "Yzow", "Yzo5OTk5OTk5"):  # junk, a hazard's, id 0, no such row
        response = client.get(URL, params={"cursor": bad}, headers=auth("ent_a"))
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


# --- the new columns, successors, citations ---------------------------------------------------


def full_csv(rows: list[dict[str, str]]) -> bytes:
    return csv_bytes(rows, columns=ALL_COLUMNS)


def test_an_import_with_the_full_columns_sets_number_year_dates_and_statuses(
        client: TestClient, auth: Auth) -> None:
    rows = [dict(r, doc_number="测试〔2026〕2号", doc_year="2026", source_date="2026-12-01")
            for r in csv_rows("mk2021.csv")[:2]]
    rows[1]["verification"] = "single_source: 测试"
    response = upload(client, auth, full_csv(rows))
    assert response.status_code == 200, response.text
    [result] = response.json()["documents"]
    assert (result["issuing_number"], result["year"]) == ("测试〔2026〕2号", 2026)
    assert (result["kept"], result["superseded"], result["verified"],
            result["single_source"]) == (2, 13, 1, 1)
    items = search(client, auth, document="MK2021")["items"]
    assert [i["source_date"] for i in items] == ["2026-12-01", "2026-12-01"]


@pytest.mark.parametrize(("change", "column"), [
    ({"doc_year": "20x6"}, "doc_year"),
    ({"doc_year": "1800"}, "doc_year"),
    ({"source_date": "2026-13-01"}, "source_date"),
    ({"source_date": "2026-1-1"}, "source_date"),
    ({"doc_superseded_by": "MK 2021"}, "doc_superseded_by"),
    ({"doc_superseded_by": "MK2021"}, "doc_superseded_by"),  # itself
    ({"doc_number": "号" * 101}, "doc_number"),
    ({"verification": "double_source: x"}, "verification"),
])
def test_bad_values_of_the_new_columns_are_refused(client: TestClient, auth: Auth, db: Session,
                                                   change: dict[str, str], column: str) -> None:
    rows = csv_rows("mk2021.csv")
    rows[2] = dict(rows[2], **change)
    response = upload(client, auth, full_csv(rows))
    assert response.status_code == 422, response.text
    assert {(e["row"], e["column"]) for e in response.json()["detail"]} == {(4, column)}
    assert superseded_count(db) == SHIPPED_SUPERSEDED


def test_a_document_differing_within_the_file_is_refused(client: TestClient, auth: Auth) -> None:
    rows = csv_rows("mk2021.csv")
    rows[5] = dict(rows[5], doc_year="2021")
    response = upload(client, auth, full_csv(rows))
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["row"], error["column"]) == (7, "doc_year") and "第 2 行" in error["msg"]
    unknown = [dict(r, doc_superseded_by="NOSUCH") for r in csv_rows("mk2021.csv")]
    refused = upload(client, auth, full_csv(unknown))
    assert refused.status_code == 422
    assert "NOSUCH" in refused.json()["detail"][0]["msg"]


def test_a_replaced_document_keeps_its_citations_but_is_not_offered(
        client: TestClient, auth: Auth, db: Session) -> None:
    [entry] = search(client, auth, q="特种作业人员未持证上岗")["items"]
    hazard = report(client, auth, "ent_a", level="major", criterion_id=str(entry["id"]))
    successor = [{"doc_code": "TEST02", "doc_title": "测试文件（取代化工判定标准）",
                  "article": "", "item": "1", "industry": "危险化学品",
                  "text": "测试条目（非标准原文）", "source_url": "", "verification": ""}]
    assert upload(client, auth, csv_bytes(successor)).status_code == 200
    replaced = [dict(r, doc_superseded_by="TEST02") for r in csv_rows("hg2017.csv")]
    response = upload(client, auth, full_csv(replaced))
    assert response.status_code == 200, response.text
    assert response.json()["documents"][0]["superseded_by"] == "TEST02"
    assert documents(client, auth)["HG2017"]["superseded_by"] == "TEST02"
    # Not offered, not citable anew ...
    assert search(client, auth, document="HG2017")["total"] == 0
    report(client, auth, "ent_a", level="major", criterion_id=str(entry["id"]), expect=422)
    # ... but readable, and the hazard that cited it keeps its citation and text.
    again = client.get(f"{URL}/{entry['id']}", headers=auth("ent_a")).json()
    assert (again["in_force"], again["superseded"], again["text"]) == (
        False, False, entry["text"])
    assert search(client, auth, document="HG2017", include_superseded=True)["total"] > 0
    cited = client.get(f"/api/v1/hazards/{hazard['id']}", headers=auth("ent_a")).json()
    assert cited["criterion_id"] == entry["id"]
    dossier = client.get(f"/api/v1/hazards/{hazard['id']}/dossier",
                         headers=auth("ent_a")).json()
    assert dossier["criterion"]["entry"]["text"] == entry["text"]
    # An import without the column leaves the mark; an empty value lifts it.
    assert upload(client, auth, csv_bytes(csv_rows("hg2017.csv"))).status_code == 200
    assert documents(client, auth)["HG2017"]["superseded_by"] == "TEST02"
    lifted = [dict(r, doc_superseded_by="") for r in csv_rows("hg2017.csv")]
    assert upload(client, auth, full_csv(lifted)).status_code == 200
    assert search(client, auth, document="HG2017")["total"] == 20


def test_the_fire_standard_2017_is_replaced_by_2025(client: TestClient, auth: Auth) -> None:
    docs = documents(client, auth)
    assert docs["GB35181-2017"]["superseded_by"] == "GB35181-2025"
    assert docs["GB35181-2025"]["superseded_by"] is None
    assert (docs["GB35181-2025"]["verified"], docs["GB35181-2025"]["single_source"]) == (0, 0)
    assert search(client, auth, industry="消防")["total"] == 0
    old = search(client, auth, industry="消防", include_superseded=True)["items"]
    assert [i["item"] for i in old] == ["6.1", "6.2", "6.3", "6.4", "6.5"]
    assert all(i["in_force"] is False and i["superseded"] is False for i in old)
    assert old[0]["citation"] == "《重大火灾隐患判定方法》直接判定要素6.1"
