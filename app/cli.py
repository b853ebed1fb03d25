"""The `bihuan` command: migrate, demo, serve, create-user, audit verify."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config

from app.clock import get_clock
from app.config import get_settings
from app.db import get_sessionmaker, run_in_transaction
from app.errors import DomainError
from app.models.enums import Role

cli = typer.Typer(help="bihuan 闭环: 隐患排查治理闭环系统", no_args_is_help=True)
audit = typer.Typer(help="Timeline integrity checks.", no_args_is_help=True)
cli.add_typer(audit, name="audit")


def alembic_config(url: str | None = None) -> Config:
    """Alembic's config from the checkout (or the image's work dir, where it is copied)."""
    candidates = (Path.cwd(), Path(__file__).resolve().parent.parent)
    root = next((d for d in candidates if (d / "alembic.ini").is_file()), None)
    if root is None:
        raise SystemExit("alembic.ini not found: run bihuan from the project directory")
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if url:
        config.attributes["url"] = url
    return config


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision (alembic upgrade head)."""
    command.upgrade(alembic_config(), "head")
    typer.echo("database is at the latest schema")


@cli.command()
def demo(
    if_empty: Annotated[bool, typer.Option(
        "--if-needed", help="Succeed quietly when the demo county is already loaded.")] = False,
) -> None:
    """Load the demo county (refuses a database that already holds other data)."""
    from app.services.demo import DEMO_PASSWORD, demo_is_loaded, load_demo

    with get_sessionmaker()() as session:
        if if_empty and demo_is_loaded(session):
            typer.echo("demo county already loaded")
            return
        try:
            for tx in run_in_transaction(session):
                ids = load_demo(tx, clock=get_clock())
        except DomainError as error:
            typer.echo(f"refused: {error.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"demo county loaded; users {', '.join(ids)} with password {DEMO_PASSWORD}")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Run the HTTP server (uvicorn)."""
    import uvicorn

    settings = get_settings()
    if settings.secret_key_generated:
        typer.echo("SECRET_KEY not set: generated a random one (dev mode; tokens will not "
                   "survive a restart). Production (BIHUAN_ENV=production) requires one.", err=True)
        # Workers are separate processes: give them one key so tokens work across them.
        os.environ["SECRET_KEY"] = settings.secret_key
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, proxy_headers=True)


@cli.command("create-user")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(help="enterprise | inspector | committee | admin")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
    enterprise_id: int | None = None,
    unit_id: int | None = None,
    region_id: int | None = None,
    display_name: str = "",
) -> None:
    """Create a user with the scope its role needs (enterprise, unit or region id)."""
    from app.services.users import create_user as create

    with get_sessionmaker()() as session:
        try:
            for tx in run_in_transaction(session):
                user = create(tx, username=username, password=password, role=role,
                              clock=get_clock(), display_name=display_name,
                              enterprise_id=enterprise_id, unit_id=unit_id, region_id=region_id)
        except DomainError as error:
            typer.echo(f"refused: {error.detail}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"created user {user.username} (id {user.id}, role {role})")


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every hazard's hash chain; name each broken event. Exit 1 if any."""
    from sqlalchemy import func, select

    from app.models import Event
    from app.services.timeline import verify_chains

    with get_sessionmaker()() as session:
        total = session.scalar(select(func.count()).select_from(Event)) or 0
        broken = list(verify_chains(session))
    for item in broken:
        typer.echo(
            f"BROKEN hazard {item.hazard_id} event {item.event_id} (seq {item.seq}): "
            f"{item.problem}"
        )
    if broken:
        typer.echo(f"{len(broken)} problem(s) in {total} events", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {total} events verified; every chain is intact")


def main() -> None:
    sys.exit(cli())
