"""Small drivers for the hazard API used across the API tests."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.security import issue_token
from app.models import Region
from app.services.accounts.users import create_user
from app.services.org.regions import child_path
from tests.fixtures.clock import START
from tests.samples import photo

Auth = Callable[[str], dict[str, str]]
TODAY = date(2026, 11, 23)  # START in Asia/Shanghai


def in_days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def report(client: TestClient, auth: Auth, username: str = "ent_a", *, photos: int = 1,
           expect: int = 201, **fields: Any) -> dict[str, Any]:
    data = {"title": "配电箱未接地", "description": "车间二配电箱外壳未接地，存在触电风险",
            "location": "二号车间东侧", "level": "general", **fields}
    files = [photo() for _ in range(photos)]
    response = client.post("/api/v1/hazards", data=data, files=files or None,
                           headers=auth(username))
    assert response.status_code == expect, response.text
    return response.json()


def act(client: TestClient, auth: Auth, username: str, hazard_id: int, action: str,
        data: dict[str, Any] | None = None, *, photos: int = 0, files: list | None = None,
        ) -> Response:
    files = files if files is not None else [photo() for _ in range(photos)]
    return client.post(f"/api/v1/hazards/{hazard_id}/actions/{action}", data=data or {},
                       files=files or None, headers=auth(username))


def ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


PLAN = {"plan_owner": "张建国（生产副总）", "plan_measures": "停用该设备，更换防护罩并加装联锁",
        "plan_funds": "85000", "plan_deadline": in_days(20),
        "plan_contingency": "设置警戒区，配备灭火器材，专人值守"}

__all__ = ["PLAN", "START", "TODAY", "Auth", "act", "in_days", "ok", "report"]


def neighbouring_county(db: Session, clock: Clock) -> tuple[Region, Region, dict[str, str]]:
    """A second county 邻县 beside the demo county, with one township 邻县城关镇 and its own
    committee user `anweiban_2`: (county, township, that user's auth headers)."""
    city = db.scalars(select(Region).where(Region.code == "339900000000")).one()
    county = Region(code="339902000000", name="邻县", level="county", parent=city,
                    path=child_path(city, "339902000000"))
    db.add(county)
    db.flush()
    town = Region(code="339902100000", name="邻县城关镇", level="township", parent=county,
                  path=child_path(county, "339902100000"))
    db.add(town)
    db.flush()
    user = create_user(db, username="anweiban_2", password="other-pass-2026",
                       role="committee", region_id=county.id, clock=clock)
    return county, town, {"Authorization": f"Bearer {issue_token(user.id, clock.now())}"}
