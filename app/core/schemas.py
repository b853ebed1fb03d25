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
