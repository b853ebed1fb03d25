"""Test fixtures.

The schema is built by `alembic upgrade head` (never create_all), on SQLite by default or on
PostgreSQL when TEST_DATABASE_URL is set. The demo county is loaded once and committed; each
test then runs inside a transaction that is rolled back, and the app under test uses that
same session (savepoint join mode).
"""

import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

_MEDIA = tempfile.mkdtemp(prefix="bihuan-test-media-")
os.environ["MEDIA_ROOT"] = _MEDIA
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")
os.environ["BIHUAN_ENV"] = "dev"

from alembic import command  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import Engine, create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.cli import alembic_config  # noqa: E402
from app.core.clock import FixedClock  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.db import get_session, make_engine, transaction  # noqa: E402
from app.core.security import issue_token  # noqa: E402
from app.http.deps import request_clock  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import User  # noqa: E402
from app.services.media.imaging.staged import StagedFile  # noqa: E402
from app.services.org.demo import demo_is_loaded, load_demo  # noqa: E402

# 10:00 in Shanghai on the session's date: deadlines below are relative to this.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _sqlite_url(directory: str) -> str:
    return f"sqlite:///{Path(directory) / 'test.db'}"


def admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL")


def create_database() -> str:
    """A new, empty database: a temp SQLite file, or a new database on the PostgreSQL server."""
    base = admin_url()
    if not base:
        return _sqlite_url(tempfile.mkdtemp(prefix="bihuan-test-db-"))
    name = f"bihuan_t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(_psycopg(base), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(_psycopg(base)).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    base = admin_url()
    assert base is not None
    engine = create_engine(_psycopg(base), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    engine.dispose()


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = create_database()
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        if not demo_is_loaded(session):
            load_demo(session, clock=FixedClock(START))
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings():
    """The live settings object; tests may change a field (restored afterwards)."""
    current = get_settings()
    saved = current.model_dump()
    yield current
    for key, value in saved.items():
        setattr(current, key, value)


@pytest.fixture
def app(db: Session, clock: FixedClock):
    application = create_app()

    def session_override() -> Iterator[Session]:
        with transaction(db) as tx:
            yield tx

    application.dependency_overrides[get_session] = session_override
    application.dependency_overrides[request_clock] = lambda: clock
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def users(db: Session) -> dict[str, User]:
    return {u.username: u for u in db.scalars(select(User))}


@pytest.fixture
def auth(users: dict[str, User], clock: FixedClock) -> Callable[[str], dict[str, str]]:
    """Headers carrying a valid token for a demo user (the login flow has its own tests)."""

    def headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(users[username].id, clock.now())}"}

    return headers


_counter = iter(range(1, 10**9))


def jpeg_bytes(size: tuple[int, int] = (64, 48), exif: bytes | None = None) -> bytes:
    """A small, unique JPEG (each call paints a different colour, and numbers itself in a
    comment: colours alone repeat after 256 calls, and a repeated image is a reused blob
    that outlives a rolled-back test)."""
    n = next(_counter)
    image = Image.new("RGB", size, ((n * 37) % 256, (n * 91) % 256, (n * 13) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, comment=f"test image {n}".encode(),
               **({"exif": exif} if exif else {}))
    return out.getvalue()


def staged_jpeg(directory: Path, data: bytes | None = None) -> StagedFile:
    """A JPEG staged on disk as the upload reader leaves it, for service-level tests."""
    data = data if data is not None else jpeg_bytes()
    path = Path(tempfile.mkstemp(dir=directory, suffix=".jpg")[1])
    path.write_bytes(data)
    return StagedFile("photos", "scene.jpg", path, len(data), hashlib.sha256(data).hexdigest())


def photo(name: str = "scene.jpg", data: bytes | None = None,
          content_type: str = "image/jpeg") -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (name, data if data is not None else jpeg_bytes(), content_type))


# Shared fixtures that live in their own modules; imported last because they use the
# helpers above.
from tests.database_fixtures import cli_on, fresh_url, loaded  # noqa: E402, F401
from tests.storage_fixtures import backend, s3_endpoint, s3_settings  # noqa: E402, F401
