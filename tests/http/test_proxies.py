"""The source address the audit log keeps: X-Forwarded-For is believed only from a proxy named
in TRUSTED_PROXIES (uvicorn's ProxyHeadersMiddleware, installed by create_app)."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import get_session, transaction
from app.http.deps import request_clock
from app.main import create_app
from app.models import AuditEntry

FORGED = {"X-Forwarded-For": "203.0.113.9"}


def app_with(db: Session, clock, settings, proxies: str) -> FastAPI:
    settings.trusted_proxies = proxies
    application = create_app()

    def session_override():
        with transaction(db) as tx:
            yield tx

    application.dependency_overrides[get_session] = session_override
    application.dependency_overrides[request_clock] = lambda: clock
    return application


def refused_from(db: Session, application: FastAPI, peer: str, auth) -> str | None:
    """Ask for the audit log as the committee (refused, so recorded) from `peer`."""
    with TestClient(application, client=(peer, 40000)) as client:
        assert client.get("/api/v1/audit-log", headers={**auth("anweiban"), **FORGED}
                          ).status_code == 403
    return db.scalars(select(AuditEntry.source_ip).order_by(AuditEntry.seq.desc())).first()


def test_without_trusted_proxies_the_header_is_ignored(db, clock, settings, auth) -> None:
    application = app_with(db, clock, settings, "")
    assert refused_from(db, application, "198.51.100.7", auth) == "198.51.100.7"


def test_a_trusted_proxy_passes_the_client_address_on(db, clock, settings, auth) -> None:
    application = app_with(db, clock, settings, "10.0.0.0/8, 192.0.2.1")
    assert refused_from(db, application, "10.1.2.3", auth) == "203.0.113.9"
    assert refused_from(db, application, "192.0.2.1", auth) == "203.0.113.9"
    # Anyone else's header is not believed.
    assert refused_from(db, application, "198.51.100.7", auth) == "198.51.100.7"


@pytest.mark.parametrize("value", ["*", "proxy.example", "10.0.0.0/33"])
def test_trusted_proxies_must_be_addresses(value: str) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(TRUSTED_PROXIES=value)


def test_serve_leaves_the_proxy_headers_to_the_app(monkeypatch) -> None:
    """uvicorn's own handling would believe 127.0.0.1 whatever TRUSTED_PROXIES says."""
    import uvicorn
    from typer.testing import CliRunner

    from app import cli as cli_module
    from app.cli import cli

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    # The database's crypto check before serving has its own tests (tests/services/crypto).
    monkeypatch.setattr(cli_module, "_crypto_ready", lambda: None)
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert seen["proxy_headers"] is False
