"""Shared schema types."""

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer

from app.core.config import get_settings


def _local_iso(value: datetime) -> str:
    return value.astimezone(get_settings().tz).isoformat()


# Text from a query string. PostgreSQL cannot store or compare NUL characters, so they are
# refused here (422) rather than failing in the database.
NO_NUL = r"^[^\x00]*$"

# Stored in UTC, shown with the users' offset (+08:00), ISO 8601 as the contract requires.
LocalDateTime = Annotated[datetime, PlainSerializer(_local_iso, return_type=str)]
