"""Storage backends for tests: the local filesystem and S3 over HTTP on loopback.

The S3 side speaks the real S3 protocol to the server named by S3_TEST_ENDPOINT_URL (CI starts
one), or else to a moto server started here for the session.
"""

import hashlib
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from app.core.config import Settings, get_settings
from app.services.media.storage import BlobStorage
from app.services.media.storage.local import LocalStorage
from app.services.media.storage.s3 import S3Storage


@dataclass
class Backend:
    storage: BlobStorage
    leftovers: Callable[[], list[str]]  # every file or object the backend holds


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BrokenSource(io.BytesIO):
    """Gives half of its bytes, then fails like a disk error or a dropped connection."""

    def read(self, size: int | None = -1) -> bytes:
        half = len(self.getbuffer()) // 2
        if self.tell() >= half:
            raise OSError("source failed midway")
        wanted = half - self.tell() if size is None or size < 0 else min(size, half - self.tell())
        return super().read(wanted)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    url = os.environ.get("S3_TEST_ENDPOINT_URL")
    if url:
        yield url
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_settings(s3_endpoint: str) -> Iterator[Settings]:
    """Settings for a bucket of this test session's own, emptied and removed at the end."""
    settings = get_settings().model_copy(update={
        "storage_backend": "s3",
        "s3_endpoint_url": s3_endpoint,
        "s3_bucket": f"bihuan-test-{uuid.uuid4().hex[:16]}",
        "s3_region": "us-east-1",
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
    })
    yield settings
    _remove_bucket(settings)


def s3_client(settings: Settings):
    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url,
                        region_name=settings.s3_region,
                        aws_access_key_id=settings.s3_access_key_id,
                        aws_secret_access_key=settings.s3_secret_access_key)


def _keys(settings: Settings, prefix: str = "") -> list[str]:
    pages = s3_client(settings).get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3_bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _remove_bucket(settings: Settings) -> None:
    client = s3_client(settings)
    try:
        for key in _keys(settings):
            client.delete_object(Bucket=settings.s3_bucket, Key=key)
        client.delete_bucket(Bucket=settings.s3_bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucket":
            raise


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return Backend(LocalStorage(tmp_path),
                       lambda: sorted(str(p) for p in tmp_path.rglob("*") if p.is_file()))
    # A prefix per test keeps the session's bucket shared but the tests apart.
    settings = request.getfixturevalue("s3_settings").model_copy(
        update={"s3_prefix": f"t-{uuid.uuid4().hex[:12]}/"})
    storage = S3Storage.from_settings(settings, create_bucket=True)
    return Backend(storage, lambda: _keys(settings, settings.s3_prefix))
