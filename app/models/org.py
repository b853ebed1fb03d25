"""Regions, industries, supervising units and enterprises."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime
from app.models.enums import RegionLevel, UnitKind


class Region(Base):
    """A node of the administrative tree, keyed by the 12-digit 统计用区划代码."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    # Materialised path of codes, "/<province>/<city>/.../<self>/": a subtree is a prefix match.
    path: Mapped[str] = mapped_column(String(400), index=True)
    # A township's boundary, a GeoJSON Polygon or MultiPolygon geometry (lon, lat), when
    # loaded: tips are placed by the point in it (services/tips/routing.py).
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    parent: Mapped["Region | None"] = relationship(remote_side=[id])


class Industry(Base):
    __tablename__ = "industry"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


unit_industry = Table(
    "unit_industry",
    Base.metadata,
    Column("unit_id", Integer, ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
    Column("industry_id", Integer, ForeignKey("industry.id"), primary_key=True),
)

unit_region = Table(
    "unit_region",
    Base.metadata,
    Column("unit_id", Integer, ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", Integer, ForeignKey("region.id"), primary_key=True),
)


class Unit(Base):
    """A supervising unit: an industry department or a township office."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[UnitKind] = mapped_column(String(16))
    # The region the unit belongs to (a county bureau's county, a township office's township).
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)

    industries: Mapped[list[Industry]] = relationship(secondary=unit_industry)
    regions: Mapped[list[Region]] = relationship(secondary=unit_region)


class Enterprise(Base):
    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)  # township
    industry_id: Mapped[int] = mapped_column(ForeignKey("industry.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    region: Mapped[Region] = relationship()
    industry: Mapped[Industry] = relationship()


class SpotCheckPolicy(Base):
    """The share of verified general hazards a committee draws for spot-checks in its region."""

    __tablename__ = "spot_check_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
