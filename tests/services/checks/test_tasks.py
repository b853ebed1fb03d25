"""Check tasks scheduled from measures' frequencies: periods, working days, idempotence."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.models import CheckItem, CheckTask, ControlMeasure, Enterprise, RiskPoint, User
from app.models.checks import Frequency, TaskState
from app.services.checks.tasks import generate_tasks, period_of, tasks_missing

MONDAY = FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # 10:00 Shanghai
SATURDAY = FixedClock(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))


def register(db: Session) -> RiskPoint:
    enterprise = db.scalars(select(Enterprise).order_by(Enterprise.id)).first()
    user = db.scalars(select(User).where(User.username == "ent_a")).one()
    point = RiskPoint(enterprise_id=enterprise.id, name="有限空间", place="污水池", level="major",
                      version=1, created_by_id=user.id, created_at=MONDAY.now(),
                      updated_at=MONDAY.now())
    for frequency in Frequency:
        point.measures.append(ControlMeasure(content="先通风再检测", check_item=f"{frequency}检查",
                                             frequency=frequency, owner="张三", active=True))
    point.measures.append(ControlMeasure(content="已停用", check_item="retired",
                                         frequency=Frequency.daily, owner="张三", active=False))
    db.add(point)
    db.flush()
    return point


def test_periods_follow_the_local_calendar() -> None:
    assert period_of(Frequency.daily, date(2026, 11, 23)) == (date(2026, 11, 23),) * 2
    assert period_of(Frequency.daily, date(2026, 11, 28)) is None  # Saturday
    assert period_of(Frequency.daily, date(2026, 10, 1)) is None  # National Day
    assert period_of(Frequency.weekly, date(2026, 11, 26)) == (date(2026, 11, 23),
                                                                date(2026, 11, 29))
    assert period_of(Frequency.monthly, date(2026, 12, 31)) == (date(2026, 12, 1),
                                                                 date(2026, 12, 31))
    assert period_of(Frequency.quarterly, date(2026, 11, 23)) == (date(2026, 10, 1),
                                                                   date(2026, 12, 31))
    assert period_of(Frequency.quarterly, date(2026, 2, 1)) == (date(2026, 1, 1),
                                                                 date(2026, 3, 31))


def test_one_task_per_active_measure_per_period(db: Session) -> None:
    point = register(db)
    assert tasks_missing(db, date(2026, 11, 23)) == 4
    assert generate_tasks(db, MONDAY) == 4
    assert generate_tasks(db, MONDAY) == 0  # again: nothing more
    assert tasks_missing(db, date(2026, 11, 23)) == 0
    tasks = db.scalars(select(CheckTask).order_by(CheckTask.id)).all()
    assert {t.state for t in tasks} == {TaskState.due}
    assert {t.enterprise_id for t in tasks} == {point.enterprise_id}
    due = {db.get(ControlMeasure, t.measure_id).frequency: t.due_on for t in tasks}
    assert due == {Frequency.daily: date(2026, 11, 23), Frequency.weekly: date(2026, 11, 29),
                   Frequency.monthly: date(2026, 11, 30),
                   Frequency.quarterly: date(2026, 12, 31)}
    items = db.scalars(select(CheckItem).order_by(CheckItem.task_id)).all()
    assert [i.task_id for i in items] == [t.id for t in tasks]  # one item each
    assert "retired" not in {i.content for i in items}
    # Saturday: no daily task, and the week's, month's and quarter's exist already.
    assert generate_tasks(db, SATURDAY) == 0
    # The next Monday: a new day and a new week.
    assert generate_tasks(db, FixedClock(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))) == 2
    assert db.scalar(select(func.count()).select_from(CheckTask)) == 6
