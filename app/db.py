"""Kept only for the landed migration 0003, which imports `UTCDateTime` from here.

Revisions that have landed are never edited; new code imports `app.core.db`.
"""

from app.core.db import UTCDateTime

__all__ = ["UTCDateTime"]
