"""The shape of a worker job: each domain's `jobs.py` lists its own; app/worker.py runs them."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock


@dataclass
class JobResult:
    lines: list[str] = field(default_factory=list)  # worth printing on every run
    summary: str | None = None  # printed by `bihuan worker --once` even when nothing happened


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[sessionmaker[Session], Clock], JobResult]
