"""The 排查 side (双重预防): risk points and their control measures (风险分级管控), check tasks
and their items (排查任务), and 举一反三 sweeps launched from a hazard."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime
from app.models.hazards import PhotoColumns


class RiskLevel(StrEnum):
    """重大/较大/一般/低, shown as 红/橙/黄/蓝."""

    major = "major"
    high = "high"
    medium = "medium"
    low = "low"


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"


class TaskKind(StrEnum):
    routine = "routine"  # from a measure's frequency
    sweep = "sweep"  # 举一反三
    campaign = "campaign"  # 专项排查 issued by the committee or a department
    inspection = "inspection"  # 部门检查: an inspector runs the items on site


class TaskState(StrEnum):
    """Stored: due or done. `overdue` is a due task past its day (computed, never stored)."""

    due = "due"
    done = "done"
    overdue = "overdue"


class Outcome(StrEnum):
    ok = "ok"  # 正常
    hazard = "hazard"  # 发现隐患


class RiskPoint(Base):
    """A risk point (风险点 / 风险分析对象) of one enterprise."""

    __tablename__ = "risk_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(300))
    level: Mapped[RiskLevel] = mapped_column(String(10))
    hazard_factors: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    measures: Mapped[list["ControlMeasure"]] = relationship(
        back_populates="risk_point", order_by="ControlMeasure.id")


class ControlMeasure(Base):
    """A control measure (管控措施): what to check, who answers for it, how often. A measure
    removed from its risk point is kept inactive: its tasks still name it (history)."""

    __tablename__ = "control_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_point_id: Mapped[int] = mapped_column(ForeignKey("risk_point.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    check_item: Mapped[str] = mapped_column(String(500))
    frequency: Mapped[Frequency] = mapped_column(String(10))
    owner: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    risk_point: Mapped[RiskPoint] = relationship(back_populates="measures")


class Sweep(Base):
    """举一反三: the items derived from one hazard, sent to every enterprise of an industry in
    a region subtree, each answering by a deadline."""

    __tablename__ = "sweep"

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    industry_id: Mapped[int] = mapped_column(ForeignKey("industry.id"))
    deadline: Mapped[date] = mapped_column(Date)
    items: Mapped[list[Any]] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckCampaign(Base):
    """专项排查: check items the committee or a department sends to a chosen set of
    enterprises, each answering by the deadline (a task per enterprise)."""

    __tablename__ = "check_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[date] = mapped_column(Date)
    items: Mapped[list[Any]] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckTask(Base):
    """One enterprise's check to do by `due_on`: a measure's for one period, a sweep's, a
    campaign's, or an inspector's on-site inspection (answered by that inspector)."""

    __tablename__ = "check_task"
    __table_args__ = (
        # One task per measure per period, one per enterprise per sweep: the worker and a
        # retried launch insert against these and never make a second.
        UniqueConstraint("measure_id", "period_start"),
        UniqueConstraint("sweep_id", "enterprise_id"),
        UniqueConstraint("campaign_id", "enterprise_id"),
        Index("ix_check_task_enterprise_keyset", "enterprise_id", "id"),
        Index("ix_check_task_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    kind: Mapped[TaskKind] = mapped_column(String(10))
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("control_measure.id"))
    sweep_id: Mapped[int | None] = mapped_column(ForeignKey("sweep.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("check_campaign.id"))
    # 部门检查: the inspector who runs it (and alone records its results).
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    period_start: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[TaskState] = mapped_column(String(10))  # due | done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the worker reminded the enterprise of the task overdue (once per task).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    items: Mapped[list["CheckItem"]] = relationship(
        back_populates="task", order_by="CheckItem.position")


class CheckItem(Base):
    """One item of a task: 正常, or 发现隐患 with the hazard it reported."""

    __tablename__ = "check_item"
    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("check_task.id"))
    position: Mapped[int]
    content: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[Outcome | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard.id"), index=True)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Recorded on or before its task's local due day (the completion rate's numerator).
    on_time: Mapped[bool | None]

    task: Mapped[CheckTask] = relationship(back_populates="items")


class CheckItemPhoto(PhotoColumns, Base):
    """A photo of an item recorded 正常 (a 发现隐患 item's photos are its hazard's)."""

    __tablename__ = "check_item_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("check_item.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
