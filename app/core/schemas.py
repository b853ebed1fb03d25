"""Shared schema types."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from app.core.config import get_settings


def _local_iso(value: datetime) -> str:
    return value.astimezone(get_settings().tz).isoformat()


# Text from a query string. PostgreSQL cannot store or compare NUL characters, so they are
# refused here (422) rather than failing in the database.
NO_NUL = r"^[^\x00]*$"

# Primary keys are INTEGER (int4 on PostgreSQL): an id outside this range names no row, and
# SQLite cannot even bind one beyond 64 bits.
MAX_ID = 2**31 - 1

# An id sent as data (a form or JSON field naming another row: the enterprise reported for,
# the supervising unit, a criterion, a region): outside the database's range it is refused as
# an invalid field (422, saying the range), before any query is made. Ids in a path or a query
# name the resource asked for; there an id out of range answers as any unknown one (404, or
# an empty list for a filter), checked with `app.core.db.valid_id` against the same MAX_ID.
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]

# Stored in UTC, shown with the users' offset (+08:00), ISO 8601 as the contract requires.
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(_local_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class FieldError(BaseModel):
    """One problem with one field, in FastAPI's shape."""

    loc: list[str | int] = Field(description="where: `body`/`query`/`path`, then the field")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer (docs/api.md, Errors): `detail` is a sentence, or for 422 a list of
    field errors. Some errors carry more beside it (an import's `problems`)."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[FieldError]
