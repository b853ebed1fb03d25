"""Shared schema types."""

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer

from app.config import get_settings


def _local_iso(value: datetime) -> str:
    return value.astimezone(get_settings().tz).isoformat()


# Stored in UTC, shown with the users' offset (+08:00), ISO 8601 as the contract requires.
LocalDateTime = Annotated[datetime, PlainSerializer(_local_iso, return_type=str)]
