"""Blobs in an S3-compatible object store, keyed like LocalStorage's files.

Originals live at `<prefix>originals/ab/cd/<sha256>`, derivatives at
`<prefix>derived/ab/<sha256>.<variant>`; other documents kept beside the photos (the audit
checkpoints' copies) under a folder of their own, `<prefix>audit/`. An S3 PUT is atomic: an
object appears whole or not at all, so an upload that fails midway leaves nothing behind.
"""

import base64
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC
from typing import IO, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.core.config import Settings
from app.services.media.storage import BlobInfo
from app.services.media.storage.local import HEX, check_digest

# A missing object: GET says NoSuchKey, HEAD (no body) only "404". A missing bucket is a
# configuration error and is left to raise, except where HEAD cannot tell the two apart.
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# Originals up to this size are spooled in memory by open(); larger ones go to a temp file.
SPOOL_MAX_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 5, "mode": "standard"},
)


def is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING_CODES


def sha256_checksum(sha256: str) -> str:
    """The digest as S3's x-amz-checksum-sha256 wants it (base64 of the raw bytes)."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


class S3Storage:
    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, create_bucket: bool = False
    ) -> None:
        self.client = client
        self.bucket = bucket
        # "media" and "media/" both mean the folder media/; an empty prefix is the bucket root.
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        # Production buckets are provisioned (with their policies) outside the app; only tests
        # and throwaway set-ups ask for one to be made.
        self._bucket_checked = not create_bucket

    @classmethod
    def from_settings(cls, settings: Settings, *, create_bucket: bool = False) -> "S3Storage":
        """A client for S3_ENDPOINT_URL; without S3_ACCESS_KEY_ID, boto3's default chain."""
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            config=CLIENT_CONFIG,
        )
        return cls(client, settings.s3_bucket, settings.s3_prefix, create_bucket=create_bucket)

    def _original(self, sha256: str) -> str:
        check_digest(sha256)
        return f"{self.prefix}originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _derived(self, sha256: str, variant: str) -> str:
        if not variant.isalnum():
            raise ValueError("bad variant name")
        return self._derived_prefix(sha256) + variant

    def _derived_prefix(self, sha256: str) -> str:
        check_digest(sha256)
        return f"{self.prefix}derived/{sha256[:2]}/{sha256}."

    def _bucket(self) -> str:
        if not self._bucket_checked:
            self._create_bucket_if_missing()
            self._bucket_checked = True
        return self.bucket

    def _create_bucket_if_missing(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if not is_missing(error):
                raise
        region = self.client.meta.region_name
        where = {} if region in (None, "us-east-1") else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            self.client.create_bucket(Bucket=self.bucket, **where)
        except ClientError:
            # Another process may have created it meanwhile; fail only if it is still unusable.
            self.client.head_bucket(Bucket=self.bucket)

    def probe(self) -> None:
        key = f"{self.prefix}.probe"
        self.client.put_object(Bucket=self._bucket(), Key=key, Body=b"ok")
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _get(self, key: str) -> Any | None:
        """The GetObject response, or None if there is no such object."""
        try:
            return self.client.get_object(Bucket=self._bucket(), Key=key)
        except ClientError as error:
            if is_missing(error):
                return None
            raise

    def put(self, sha256: str, source: BinaryIO) -> bool:
        key = self._original(sha256)
        if self._exists(key):
            return False
        body, spooled = _seekable(source)
        try:
            # One streamed PUT rather than multipart: photos are far below S3's 5 GB limit for
            # it, and only then can the whole object carry the SHA-256 that S3 checks before
            # the object becomes visible. The content address is that checksum, so a truncated
            # or corrupted body is refused, never stored under the key.
            self.client.put_object(
                Bucket=self._bucket(), Key=key, Body=body,
                ChecksumAlgorithm="SHA256", ChecksumSHA256=sha256_checksum(sha256),
            )
        finally:
            if spooled:
                body.close()
        return True

    def open(self, sha256: str) -> BinaryIO:
        key = self._original(sha256)
        response = self._get(key)
        if response is None:
            raise FileNotFoundError(f"no blob {sha256}")
        # Callers read in chunks and Pillow seeks: a local spool gives both without holding
        # a large original in memory or an HTTP connection open while the caller works.
        # Not `with response["Body"]`: that yields the raw stream, skipping botocore's length
        # and checksum checks, which are what turn a corrupted object into an error.
        with closing(response["Body"]) as body:
            return cast(BinaryIO, _spool(body))

    def exists(self, sha256: str) -> bool:
        return self._exists(self._original(sha256))

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self._bucket(), Key=key)
        except ClientError as error:
            if is_missing(error):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        original = self._original(sha256)
        # Derivatives first: should this stop midway, the original is still there and they can
        # be remade, whereas derivatives without their original would never be listed again.
        for key in self._keys(self._derived_prefix(sha256)):
            self.client.delete_object(Bucket=self._bucket(), Key=key)
        self.client.delete_object(Bucket=self._bucket(), Key=original)

    def get_derived(self, sha256: str, variant: str) -> bytes | None:
        response = self._get(self._derived(sha256, variant))
        if response is None:
            return None
        with closing(response["Body"]) as body:
            return cast(bytes, body.read())

    def put_derived(self, sha256: str, variant: str, data: bytes) -> None:
        self.client.put_object(Bucket=self._bucket(), Key=self._derived(sha256, variant),
                               Body=data)

    # Documents that are not photos, named relative to the prefix ("audit/checkpoint-1.json"):
    # iter_originals never lists them, so the photo gc leaves them alone.

    def document_key(self, name: str) -> str:
        if not name or name.startswith("/") or name.startswith(("originals/", "derived/")):
            raise ValueError(f"bad document name {name!r}")
        return f"{self.prefix}{name}"

    def document_url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.document_key(name)}"

    def put_document(self, name: str, source: IO[bytes], content_type: str) -> str:
        """Upload a readable file (multipart when large) under the name; its s3:// URL."""
        key = self.document_key(name)
        self.client.upload_fileobj(source, self._bucket(), key,
                                   ExtraArgs={"ContentType": content_type})
        return self.document_url(name)

    def delete_document(self, name: str) -> None:
        self.client.delete_object(Bucket=self._bucket(), Key=self.document_key(name))

    def forget_document(self, name: str) -> bool:
        """Delete it if the store answers (an undo after a failure: the store may be why);
        False when it could not be asked."""
        try:
            self.delete_document(name)
        except (ClientError, BotoCoreError):
            return False
        return True

    def iter_originals(self) -> Iterator[BlobInfo]:
        for item in self._objects(f"{self.prefix}originals/"):
            name = item["Key"].rsplit("/", 1)[-1]
            # Only keys where open() would find them: anything else is not one of our blobs.
            if len(name) != 64 or not set(name) <= HEX or item["Key"] != self._original(name):
                continue
            yield BlobInfo(name, item["Size"], item["LastModified"].astimezone(UTC))

    def _keys(self, prefix: str) -> Iterator[str]:
        for item in self._objects(prefix):
            yield item["Key"]

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket(), Prefix=prefix):
            yield from page.get("Contents", [])


def _seekable(source: BinaryIO) -> tuple[IO[bytes], bool]:
    """The source itself when it can be measured and rewound (for the length and retries);
    otherwise a copy of it. True when the copy is ours to close."""
    if source.seekable():
        return source, False
    return _spool(source), True


def _spool(source: IO[bytes]) -> IO[bytes]:
    """A rewound local copy of the stream: in memory up to SPOOL_MAX_BYTES, then on disk."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
    try:
        shutil.copyfileobj(source, spool, CHUNK_BYTES)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool
