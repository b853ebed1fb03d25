"""/readyz: may this process take traffic? The database answers, its schema is at the
migrations' head, and the photo storage takes a write. /healthz only says the process lives."""

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from app.core.migrations import alembic_config
from app.services.media.storage import BlobStorage


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def schema_head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_database(engine: Engine, head: str | None) -> list[Check]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:
        return [Check("database", False, type(error).__name__),
                Check("migrations", False, "database unreachable")]
    at_head = current == head
    return [Check("database", True, "reachable"),
            Check("migrations", at_head, f"at {current}" + ("" if at_head else f", head {head}"))]


def check_storage(storage: BlobStorage) -> Check:
    try:
        storage.probe()
    except Exception as error:
        return Check("storage", False, type(error).__name__)
    return Check("storage", True, "writable")


def readiness(engine: Engine, storage: BlobStorage, head: str | None) -> list[Check]:
    return [*check_database(engine, head), check_storage(storage)]
