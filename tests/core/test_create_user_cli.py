"""`bihuan create-user` makes the first security admin of an installation, audited."""

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.models import AuditEntry, Region, User
from app.models.enums import Role


def test_create_user_makes_a_security_admin_and_records_it(loaded: Engine,
                                                          cli_on: CliRunner) -> None:
    with Session(loaded) as session:
        county = session.scalars(select(Region.id).where(Region.code == "339901000000")).one()
    result = cli_on.invoke(cli, ["create-user", "first_sec", "--role", "security_admin",
                                 "--region-id", str(county), "--password", "Sec-Pass-2026!"])
    assert result.exit_code == 0, result.output
    with Session(loaded) as session:
        user = session.scalars(select(User).where(User.username == "first_sec")).one()
        assert user.role == Role.security_admin and user.region_id == county
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user_create", AuditEntry.object == f"user:{user.id}")).one()
        assert entry.username == "system" and entry.detail["after"]["role"] == "security_admin"
        assert "Sec-Pass-2026!" not in str(entry.detail)
