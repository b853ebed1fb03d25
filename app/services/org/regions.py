"""Region tree helpers."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Region
from app.models.enums import RegionLevel


def path_codes(path: str) -> list[str]:
    return [code for code in path.split("/") if code]


def ancestor_at_level(session: Session, region: Region, level: RegionLevel) -> Region | None:
    return session.scalar(
        select(Region).where(Region.code.in_(path_codes(region.path)), Region.level == level)
    )


def child_path(parent: Region | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"
