"""Running it: `bihuan check-config`, /readyz, /metrics, request ids and JSON log lines."""

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from app.cli import cli
from app.core.logs import REQUEST_ID, logging_config
from app.core.migrations import alembic_config
from app.main import create_app
from app.services.media.storage.local import LocalStorage
from app.services.operations import readiness
from tests.fixtures.databases import create_database, drop_database, migrate

SAFE = {
    "BIHUAN_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql://bihuan@db.internal/bihuan",
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "bihuan-media",
    "APP_HOSTS": "3",
}
UNSAFE = {
    "development mode": ({"BIHUAN_ENV": "dev"}, "BIHUAN_ENV"),
    "no secret key": ({"SECRET_KEY": ""}, "SECRET_KEY"),
    "a short secret key": ({"SECRET_KEY": "short-key"}, "SECRET_KEY"),
    "SQLite": ({"DATABASE_URL": "sqlite:///var/bihuan.db"}, "SQLite"),
    "local photos on several hosts": ({"STORAGE_BACKEND": "local"}, "STORAGE_BACKEND=local"),
    "a checkpoint copy to S3 without S3": (
        {"STORAGE_BACKEND": "local", "APP_HOSTS": "1", "AUDIT_CHECKPOINT_S3": "true"},
        "AUDIT_CHECKPOINT_S3"),
    "passwords that never expire": ({"PASSWORD_MAX_AGE_DAYS": "0"}, "PASSWORD_MAX_AGE_DAYS"),
    "staff without a second factor": ({"OTP_REQUIRED_ROLES": "committee,admin"},
                                      "audit_admin, inspector, security_admin"),
}


def check_config(monkeypatch, environ: dict[str, str]):
    from typer.testing import CliRunner

    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(cli, ["check-config"])


def test_check_config_accepts_a_safe_production_setup(monkeypatch) -> None:
    result = check_config(monkeypatch, SAFE)
    assert result.exit_code == 0, result.output
    assert "配置检查通过" in result.output


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_check_config_refuses_each_unsafe_setting_and_says_why(monkeypatch, case: str) -> None:
    change, named = UNSAFE[case]
    result = check_config(monkeypatch, {**SAFE, **change})
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("✗")]
    assert len(problems) == 1, result.output
    assert named in problems[0]


def test_readyz_answers_ready_on_a_migrated_database(cli_on) -> None:
    with TestClient(create_app()) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {
        "database": {"ok": True, "detail": "reachable"},
        "migrations": {"ok": True, "detail": f"at {readiness.schema_head()}"},
        "storage": {"ok": True, "detail": "writable"},
    }


def test_readyz_names_a_schema_behind_the_migrations() -> None:
    url = create_database()
    try:
        revisions = [s.revision for s in readiness.ScriptDirectory.from_config(
            alembic_config()).walk_revisions()]
        migrate(url, revisions[1])  # one behind the head
        from app.core.db import make_engine

        engine: Engine = make_engine(url)
        checks = {c.name: c for c in readiness.check_database(engine, revisions[0])}
        engine.dispose()
    finally:
        drop_database(url)
    assert checks["database"].ok
    assert not checks["migrations"].ok
    assert revisions[0] in checks["migrations"].detail


def test_readyz_names_an_unreachable_database_and_unwritable_storage(tmp_path: Path) -> None:
    # Nothing listens on port 1.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/bihuan",
                           connect_args={"connect_timeout": 2})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    checks = readiness.readiness(engine, LocalStorage(blocker / "media"), "head")
    assert [(c.name, c.ok) for c in checks] == [
        ("database", False), ("migrations", False), ("storage", False)]


def test_metrics_count_requests_by_route_template_and_read_the_outbox(cli_on) -> None:
    with TestClient(create_app()) as client:
        for path in ("/api/v1/hazards/12345", "/api/v1/hazards/67890", "/no/such/page"):
            client.get(path)
        body = client.get("/metrics").text
    assert ('bihuan_http_requests_total{method="GET",route="/api/v1/hazards/{hazard_id}",'
            'status="401"}') in body
    assert "/api/v1/hazards/12345" not in body  # never the raw path: ids would multiply series
    assert 'route="unmatched",status="404"' in body
    assert 'bihuan_outbox_backlog{kind="messages"}' in body
    assert "bihuan_worker_lag_seconds" in body


def test_every_answer_carries_a_request_id(client) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-7f3a.1"})
    assert given.headers["x-request-id"] == "proxy-7f3a.1"
    for hostile in ("a" * 65, "two words", "<script>"):
        made = client.get("/healthz", headers={"X-Request-ID": hostile})
        assert made.headers["x-request-id"] != hostile
        assert len(made.headers["x-request-id"]) == 32
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_json_log_lines_carry_the_request_id(capsys) -> None:
    logging.config.dictConfig(logging_config("json"))
    try:
        token = REQUEST_ID.set("req-42")
        logging.getLogger("bihuan.test").warning("照片处理完成 %s", "ok", extra={"hazard_id": 7})
        REQUEST_ID.reset(token)
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False,
                                   "root": {"handlers": [], "level": "WARNING"}})
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "照片处理完成 ok"
    assert line["request_id"] == "req-42"
    assert line["level"] == "WARNING" and line["logger"] == "bihuan.test"
    assert line["hazard_id"] == 7
