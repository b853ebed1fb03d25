"""One behaviour for every storage backend: the local filesystem and S3.

The S3 side speaks the real S3 HTTP protocol to a server on loopback: the one named by
S3_TEST_ENDPOINT_URL (CI starts one), or else a moto server started here for the session.
"""

import base64
import hashlib
import io
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, FlexibleChecksumError
from PIL import Image

from app.core.config import Settings
from app.services.media.storage import BlobStorage
from app.services.media.storage.s3 import S3Storage
from tests.fixtures.storage import Backend, BrokenSource, digest, s3_client
from tests.samples import jpeg_bytes


@pytest.fixture
def storage(backend: Backend) -> BlobStorage:
    return backend.storage


def test_put_stores_the_bytes_once(storage: BlobStorage) -> None:
    data = os.urandom(300_000)
    sha = digest(data)
    assert storage.put(sha, io.BytesIO(data)) is True
    # Already stored: reports so without reading the source at all.
    assert storage.put(sha, BrokenSource(b"never read")) is False
    assert storage.exists(sha)
    with storage.open(sha) as blob:
        assert blob.read() == data


class OneWayStream(io.BytesIO):
    """A pipe-like source: can be read, not measured or rewound."""

    def seekable(self) -> bool:
        return False

    def seek(self, *args, **kwargs):
        raise io.UnsupportedOperation("seek")

    def tell(self) -> int:
        raise io.UnsupportedOperation("tell")


def test_put_accepts_a_source_that_cannot_seek(storage: BlobStorage) -> None:
    data = os.urandom(100_000)
    assert storage.put(digest(data), OneWayStream(data)) is True
    with storage.open(digest(data)) as blob:
        assert blob.read() == data


def test_open_reads_in_chunks_seeks_and_feeds_pillow(storage: BlobStorage) -> None:
    data = jpeg_bytes((120, 80))
    sha = digest(data)
    storage.put(sha, io.BytesIO(data))
    with storage.open(sha) as blob:
        chunks = list(iter(lambda: blob.read(1000), b""))
        assert b"".join(chunks) == data
        blob.seek(0)
        with Image.open(blob) as image:
            assert image.size == (120, 80)


def test_a_large_original_round_trips(storage: BlobStorage) -> None:
    """Larger than what S3Storage.open keeps in memory."""
    data = os.urandom(9 * 1024 * 1024 + 7)
    sha = digest(data)
    assert storage.put(sha, io.BytesIO(data))
    with storage.open(sha) as blob:
        assert hashlib.file_digest(blob, "sha256").hexdigest() == sha


def test_a_missing_blob(storage: BlobStorage) -> None:
    sha = digest(b"never stored")
    assert not storage.exists(sha)
    with pytest.raises(FileNotFoundError):
        storage.open(sha)
    assert storage.get_derived(sha, "thumb") is None
    storage.delete(sha)  # no error


def test_derivatives_are_stored_and_replaced(storage: BlobStorage) -> None:
    sha = digest(b"original")
    storage.put_derived(sha, "thumb", b"small")
    storage.put_derived(sha, "preview", b"larger")
    storage.put_derived(sha, "thumb", b"small again")
    assert storage.get_derived(sha, "thumb") == b"small again"
    assert storage.get_derived(sha, "preview") == b"larger"
    with pytest.raises(ValueError, match="variant"):
        storage.put_derived(sha, "../thumb", b"x")


def test_delete_removes_the_original_and_its_derivatives(backend: Backend) -> None:
    storage = backend.storage
    kept, gone = b"kept photo", b"deleted photo"
    for data in (kept, gone):
        storage.put(digest(data), io.BytesIO(data))
        storage.put_derived(digest(data), "thumb", b"t")
        storage.put_derived(digest(data), "preview", b"p")
    storage.delete(digest(gone))
    assert not storage.exists(digest(gone))
    assert storage.get_derived(digest(gone), "thumb") is None
    assert storage.get_derived(digest(gone), "preview") is None
    assert storage.exists(digest(kept))
    assert storage.get_derived(digest(kept), "thumb") == b"t"
    storage.delete(digest(kept))
    assert backend.leftovers() == []


def test_iter_originals_lists_what_was_put(storage: BlobStorage) -> None:
    contents = [b"a", b"bb" * 1000, os.urandom(5000)]
    for data in contents:
        storage.put(digest(data), io.BytesIO(data))
    storage.put_derived(digest(b"a"), "thumb", b"a derivative is not an original")
    listed = list(storage.iter_originals())
    assert {info.sha256: info.size for info in listed} == \
        {digest(data): len(data) for data in contents}
    for info in listed:
        assert info.modified_at.utcoffset() == timedelta(0)
        assert abs(info.modified_at - datetime.now(UTC)) < timedelta(minutes=5)


@pytest.mark.parametrize("bad", [
    "", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" + "0" * 61, "0" * 62 + "/x",
])
def test_invalid_digests_are_refused(storage: BlobStorage, bad: str) -> None:
    calls = [
        lambda: storage.put(bad, io.BytesIO(b"x")),
        lambda: storage.open(bad),
        lambda: storage.exists(bad),
        lambda: storage.delete(bad),
        lambda: storage.get_derived(bad, "thumb"),
        lambda: storage.put_derived(bad, "thumb", b"x"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="SHA-256"):
            call()


def test_a_source_failing_midway_leaves_nothing(backend: Backend) -> None:
    storage = backend.storage
    data = os.urandom(3 * 1024 * 1024)
    sha = digest(data)
    with pytest.raises(OSError, match="midway"):
        storage.put(sha, BrokenSource(data))
    assert not storage.exists(sha)
    assert list(storage.iter_originals()) == []
    assert backend.leftovers() == []
    # Nothing half-written stands in the way of the next attempt.
    assert storage.put(sha, io.BytesIO(data)) is True
    with storage.open(sha) as blob:
        assert blob.read() == data


def test_s3_never_creates_a_bucket_unless_asked(s3_settings: Settings) -> None:
    settings = s3_settings.model_copy(update={"s3_bucket": f"absent-{uuid.uuid4().hex[:12]}"})
    storage = S3Storage.from_settings(settings)
    data = b"photo"
    with pytest.raises(ClientError) as raised:
        storage.put(digest(data), io.BytesIO(data))
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
    assert settings.s3_bucket not in [
        b["Name"] for b in s3_client(settings).list_buckets()["Buckets"]]


def test_s3_objects_carry_their_sha256_as_checksum(s3_settings: Settings) -> None:
    """S3 verifies the body against it before the object exists, and GETs return it."""
    settings = s3_settings.model_copy(update={"s3_prefix": f"t-{uuid.uuid4().hex[:12]}/"})
    storage = S3Storage.from_settings(settings, create_bucket=True)
    data = os.urandom(1000)
    storage.put(digest(data), io.BytesIO(data))
    head = s3_client(settings).head_object(Bucket=settings.s3_bucket, Key=_key(settings, data),
                                         ChecksumMode="ENABLED")
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == digest(data)


def test_s3_open_refuses_bytes_that_do_not_match_their_checksum(s3_settings: Settings) -> None:
    """Bit rot or tampering in the store: reading fails instead of serving other bytes."""
    settings = s3_settings.model_copy(update={"s3_prefix": f"t-{uuid.uuid4().hex[:12]}/"})
    storage = S3Storage.from_settings(settings, create_bucket=True)
    data = os.urandom(1000)
    claimed = base64.b64encode(hashlib.sha256(data).digest()).decode()
    try:
        s3_client(settings).put_object(
            Bucket=settings.s3_bucket, Key=_key(settings, data), Body=b"tampered",
            ChecksumAlgorithm="SHA256", ChecksumSHA256=claimed)
    except ClientError:
        return  # a server that checks on write (as S3 does) refuses it there: better still
    with pytest.raises(FlexibleChecksumError):
        storage.open(digest(data))


def _key(settings: Settings, data: bytes) -> str:
    sha = digest(data)
    return f"{settings.s3_prefix}originals/{sha[:2]}/{sha[2:4]}/{sha}"
