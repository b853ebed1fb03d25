"""The criteria catalogue with committed data: migrations 0003 and 0025 up and down, the CLI
import, the active-entry index, racing imports."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from threading import Barrier

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import make_engine, transaction
from app.core.migrations import alembic_config
from app.models import CriteriaDocument, Criterion
from app.services.criteria.catalogue import import_document
from tests.api.test_criteria import csv_bytes, csv_rows

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def counts(engine: Engine) -> dict[str, tuple[int, int]]:
    """Per document: (active entries, superseded entries)."""
    with Session(engine) as session:
        rows = session.execute(
            select(CriteriaDocument.code, Criterion.superseded_at.is_(None), func.count())
            .join(Criterion.document).group_by(CriteriaDocument.code,
                                               Criterion.superseded_at.is_(None))
        ).all()
    result: dict[str, tuple[int, int]] = {}
    for code, active, n in rows:
        a, s = result.get(code, (0, 0))
        result[code] = (a + n, s) if active else (a, s + n)
    return result


# After migration 0025: GM2023 第一、二、十五条 and HG2017's old item 8 superseded.
CATALOGUE = {"GM2023": (37, 3), "HG2017": (20, 1), "MK2021": (15, 0), "GB35181-2017": (5, 0)}


def test_migration_0003_loads_and_drops_the_catalogue(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    config = alembic_config(fresh_url)
    command.upgrade(config, "0002")
    assert "criterion" not in inspect(engine).get_table_names()
    command.upgrade(config, "0003")
    assert counts(engine) == {"GM2023": (40, 0), "HG2017": (20, 0)}
    command.downgrade(config, "0002")
    assert not {"criterion", "criteria_document"} & set(inspect(engine).get_table_names())
    command.upgrade(config, "head")
    assert counts(engine) == CATALOGUE
    engine.dispose()


def test_migration_0025_keeps_cited_rows_and_goes_down_and_up(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    config = alembic_config(fresh_url)
    command.upgrade(config, "0023")
    with Session(engine) as session, session.begin():
        cited = session.execute(text(
            "SELECT c.id FROM criterion c JOIN criteria_document d ON d.id = c.document_id "
            "WHERE d.code = 'GM2023' AND c.article = '第一条'")).scalar_one()
        kept = session.execute(text(
            "SELECT c.id FROM criterion c JOIN criteria_document d ON d.id = c.document_id "
            "WHERE d.code = 'HG2017' AND c.item = '2'")).scalar_one()
    command.upgrade(config, "0025")
    assert counts(engine) == CATALOGUE
    with Session(engine) as session:
        first = session.get(Criterion, cited)
        assert first is not None and first.superseded_at is not None  # kept, superseded
        assert session.get(Criterion, kept).superseded_at is None  # unchanged: same id
        new8, old8 = (session.scalars(
            select(Criterion).join(Criterion.document)
            .where(CriteriaDocument.code == "HG2017", Criterion.item == "8")
            .order_by(Criterion.superseded_at.is_(None).desc())).all())
        assert old8.superseded_by_id == new8.id and "（包括化工园区" in new8.text
        old_fire = session.scalars(select(CriteriaDocument).where(
            CriteriaDocument.code == "GB35181-2017")).one()
        assert old_fire.superseded_by is not None
        assert old_fire.superseded_by.code == "GB35181-2025"
        assert all(c.search_text for c in session.scalars(select(Criterion)))
    command.downgrade(config, "0023")
    assert "search_text" not in {c["name"] for c in inspect(engine).get_columns("criterion")}
    assert sum(a + s for a, s in counts(engine).values()) == sum(
        a + s for a, s in CATALOGUE.values())  # the rows stay: hazards may cite them
    command.upgrade(config, "head")
    assert counts(engine) == CATALOGUE
    with Session(engine) as session:
        assert session.get(Criterion, cited).superseded_at is not None
        assert session.scalars(select(Criterion.superseded_by_id).where(
            Criterion.text.contains("除厂区(包括"))).one() is not None
    engine.dispose()


def test_cli_import_replaces_a_document(loaded: Engine, cli_on: CliRunner,
                                        tmp_path: Path) -> None:
    rows = csv_rows("hg2017.csv")
    good = tmp_path / "hg.csv"
    good.write_bytes(csv_bytes([*rows[:19], dict(rows[19], text="测试条目（非标准原文）")]))
    result = cli_on.invoke(cli, ["criteria", "import", str(good), "--completeness", "complete",
                                 "--completeness-note", "测试"])
    assert result.exit_code == 0, result.output
    assert "HG2017" in result.output
    assert "1 added, 19 unchanged, 1 superseded" in result.output
    assert counts(loaded) == dict(CATALOGUE, HG2017=(20, 2))

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([rows[0], dict(rows[1], text="")]))
    refused = cli_on.invoke(cli, ["criteria", "import", str(bad)])
    assert refused.exit_code == 1
    assert "row 3, text: 必填" in refused.output
    assert counts(loaded) == dict(CATALOGUE, HG2017=(20, 2))
    wrong = cli_on.invoke(cli, ["criteria", "import", str(good), "--completeness", "whole"])
    assert wrong.exit_code == 1
    assert "complete" in wrong.output

    listing = cli_on.invoke(cli, ["criteria", "documents"])
    assert listing.exit_code == 0, listing.output
    assert "GM2023" in listing.output and "partial" in listing.output
    assert "HG2017" in listing.output and "2 superseded" in listing.output


def test_the_database_allows_one_active_entry_per_article_and_item(db: Session) -> None:
    entry = db.scalars(select(Criterion).where(Criterion.text == "特种作业人员未持证上岗")).one()
    twin = Criterion(document_id=entry.document_id, position=99, article=entry.article,
                     item=entry.item, text="测试条目（非标准原文）", verification="unverified")
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(twin)
        db.flush()
    # Superseded entries do not count.
    with db.begin_nested():
        entry.superseded_at = NOW
        db.add(Criterion(document_id=entry.document_id, position=99, article=entry.article,
                         item=entry.item, text="测试条目（非标准原文）",
                         verification="unverified"))
        db.flush()


def race(n: int, task: Callable[[int], None]) -> None:
    barrier = Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        task(i)

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(run, range(n)))


@pytest.mark.parametrize("code", ["HG2017", "TEST99"])
def test_racing_imports_of_a_document_leave_one_file_in_force(loaded: Engine,
                                                               code: str) -> None:
    rows = csv_rows("hg2017.csv")

    def task(i: int) -> None:
        marked = [dict(r, doc_code=code, text=f"测试条目{i}（非标准原文）{r['item']}")
                  for r in rows]
        with Session(loaded) as session, transaction(session) as tx:
            import_document(tx, marked, now=NOW)

    race(4, task)
    active, superseded = counts(loaded)[code]
    shipped = CATALOGUE["HG2017"][1] if code == "HG2017" else 0
    assert (active, superseded) == (20, shipped + 20 * (4 if code == "HG2017" else 3))
    with Session(loaded) as session:
        texts = session.scalars(select(Criterion.text).join(Criterion.document).where(
            CriteriaDocument.code == code, Criterion.superseded_at.is_(None))).all()
    assert len({t.split("（")[0] for t in texts}) == 1  # all from the same import
