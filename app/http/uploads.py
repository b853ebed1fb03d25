"""Streaming form reader: file parts go to staging files on disk as they arrive.

A file is never held whole in memory; its SHA-256 is computed on the way through; crossing
the per-file or per-request limit, or the photo count, answers 413 at once; staged files are
removed when the request ends, whatever happened.
"""

import hashlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from app.core.errors import PayloadTooLarge, Unprocessable, UnsupportedMedia
from app.services.media.imaging.staged import StagedFile

MAX_FIELD_BYTES = 64 * 1024
# A photo that large comes from a high-resolution camera mode (1 亿 or 2 亿 pixels).
PHOTO_TOO_LARGE = "。请在相机中关闭高像素模式（如 1 亿、2 亿像素），用标准模式拍摄后上传"
MAX_FIELDS = 100


@dataclass
class Limits:
    max_file_bytes: int
    max_request_bytes: int
    max_files: int


@dataclass
class StagedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[StagedFile] = field(default_factory=list)

    @property
    def photos(self) -> list[StagedFile]:
        """The evidence files: parts named `photos` (an empty file input sends nothing useful)."""
        return [f for f in self.files if f.field_name == "photos" and (f.filename or f.size)]

    def discard(self) -> None:
        for staged in self.files:
            staged.path.unlink(missing_ok=True)


class _MultipartReader:
    """Callbacks for python-multipart's push parser; enforces the limits as bytes arrive."""

    def __init__(self, form: StagedForm, limits: Limits, staging: Path) -> None:
        self.form, self.limits, self.staging = form, limits, staging
        self.header_field, self.header_value = b"", b""
        self.headers: dict[bytes, bytes] = {}
        self.field_name: str | None = None
        self.field_value = bytearray()
        self.file: StagedFile | None = None
        self.handle: IO[bytes] | None = None
        self.digest: Any = None
        self.total = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda d, s, e: self._add("header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("header_value", d[s:e]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def _add(self, attr: str, data: bytes) -> None:
        setattr(self, attr, getattr(self, attr) + data)

    def on_part_begin(self) -> None:
        self.headers, self.field_name, self.file = {}, None, None
        self.field_value = bytearray()

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            if len(self.form.fields) >= MAX_FIELDS:
                raise Unprocessable("表单字段过多")
            self.field_name = name
            return
        if len(self.form.files) >= self.limits.max_files:
            raise PayloadTooLarge(f"每次最多上传 {self.limits.max_files} 个文件")
        filename = _text(options[b"filename"]).replace("\\", "/")
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in on_part_end/close)
            dir=self.staging, prefix="upload-", delete=False)
        self.file = StagedFile(name, filename.rsplit("/", 1)[-1][:255], Path(handle.name))
        self.form.files.append(self.file)
        self.handle, self.digest = handle, hashlib.sha256()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        self.total += len(chunk)
        if self.total > self.limits.max_request_bytes:
            raise PayloadTooLarge("上传内容超过单次请求的大小上限")
        if self.file is None:
            self.field_value += chunk
            if len(self.field_value) > MAX_FIELD_BYTES:
                raise PayloadTooLarge(f"字段 {self.field_name} 内容过长")
            return
        self.file.size += len(chunk)
        if self.file.size > self.limits.max_file_bytes:
            limit_mb = self.limits.max_file_bytes // (1024 * 1024)
            advice = PHOTO_TOO_LARGE if self.file.field_name == "photos" else ""
            raise PayloadTooLarge(f"文件「{self.file.filename}」超过 {limit_mb} MB 上限{advice}")
        assert self.handle is not None
        self.handle.write(chunk)
        self.digest.update(chunk)

    def on_part_end(self) -> None:
        if self.file is not None:
            self.close()
            self.file.sha256 = self.digest.hexdigest()
        elif self.field_name is not None:
            self.form.fields.setdefault(self.field_name, _text(self.field_value))

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _text(raw: bytes | bytearray) -> str:
    """Form text as stored: NUL characters carry no meaning and PostgreSQL refuses them."""
    return raw.decode("utf-8", "replace").replace("\x00", "")


async def read_streaming_form(
    content_type: str, body: AsyncIterator[bytes], limits: Limits, staging: Path
) -> StagedForm:
    """Parse a multipart or URL-encoded body; on any error, nothing staged is left behind."""
    media_type, options = parse_options_header(content_type.encode("latin-1", "replace"))
    form = StagedForm()
    if media_type == b"application/x-www-form-urlencoded":
        raw = bytearray()
        async for chunk in body:
            raw += chunk
            if len(raw) > limits.max_request_bytes:
                raise PayloadTooLarge("表单内容过大")
        for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            form.fields.setdefault(key, value.replace("\x00", ""))
        return form
    if media_type != b"multipart/form-data" or b"boundary" not in options:
        if media_type in (b"", b"application/json"):
            return form  # no form at all: the fields are simply missing (422 later)
        raise UnsupportedMedia("请以 multipart/form-data 或 URL 编码表单提交")
    staging.mkdir(parents=True, exist_ok=True)
    reader = _MultipartReader(form, limits, staging)
    parser = MultipartParser(options[b"boundary"], reader.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except BaseException as error:
        reader.close()
        form.discard()
        if isinstance(error, PayloadTooLarge | Unprocessable | UnsupportedMedia):
            raise
        if isinstance(error, Exception):
            raise Unprocessable("表单格式错误") from None
        raise
    return form
