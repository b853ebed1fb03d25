"""The suite's configuration: the environment first, then the fixtures of tests/fixtures/.

The schema is built by `alembic upgrade head` (never create_all), on SQLite by default or on
PostgreSQL when TEST_DATABASE_URL is set. The demo county is loaded once and committed; each
test then runs inside a transaction that is rolled back, and the app under test uses that
same session (savepoint join mode).
"""

import os
import tempfile

_MEDIA = tempfile.mkdtemp(prefix="bihuan-test-media-")
os.environ["MEDIA_ROOT"] = _MEDIA
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")
os.environ["BIHUAN_ENV"] = "dev"

# After the environment: importing the app reads the settings.
from tests.fixtures.app import app, auth, client, settings, users  # noqa: E402, F401
from tests.fixtures.clock import clock  # noqa: E402, F401
from tests.fixtures.databases import (  # noqa: E402, F401
    cli_on,
    database_url,
    db,
    engine,
    fresh_url,
    loaded,
)
from tests.fixtures.storage import backend, s3_endpoint, s3_settings  # noqa: E402, F401
