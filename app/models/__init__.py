"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

from app.models.hazard import Assignment, Event, Hazard, HazardCounter, Photo
from app.models.org import (
    Enterprise,
    Industry,
    Region,
    SpotCheckPolicy,
    Unit,
    unit_industry,
    unit_region,
)
from app.models.user import LoginAttempt, User

__all__ = [
    "Assignment",
    "Enterprise",
    "Event",
    "Hazard",
    "HazardCounter",
    "Industry",
    "LoginAttempt",
    "Photo",
    "Region",
    "SpotCheckPolicy",
    "Unit",
    "User",
    "unit_industry",
    "unit_region",
]
