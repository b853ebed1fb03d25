"""Numbers counted per county and year (hazard codes, 督办单 numbers), safe under concurrency.

An UPDATE ... RETURNING bumps the counter under its row lock; the first number of a year
inserts the row with ON CONFLICT DO NOTHING, so racing first numbers still come out distinct.
"""

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import HazardCounter
from app.models.supervision import NoticeCounter

Counter = type[HazardCounter] | type[NoticeCounter]


def next_number(session: Session, counter: Counter, county_code: str, year: int) -> int:
    bump = (update(counter)
            .where(counter.county_code == county_code, counter.year == year)
            .values(last=counter.last + 1)
            .returning(counter.last))
    last = session.execute(bump).scalar()
    if last is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(counter)
                        .values(county_code=county_code, year=year, last=0)
                        .on_conflict_do_nothing())
        last = session.execute(bump).scalar_one()
    return int(last)
