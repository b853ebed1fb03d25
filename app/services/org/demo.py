"""The demo county (README): two townships, two supervising units, two enterprises, six
users."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import Conflict
from app.models import Enterprise, Industry, Region, Unit, User
from app.models.enums import RegionLevel, Role, UnitKind
from app.services.accounts.users import create_user
from app.services.org.regions import child_path
from app.services.org.uscc import is_valid_uscc

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (documented in the README)
DEMO_COUNTY_CODE = "339901000000"

# (code, name, level, parent code). 3399xx codes are unused by real divisions: a demo tree.
REGIONS = [
    ("330000000000", "浙江省", RegionLevel.province, None),
    ("339900000000", "演示市", RegionLevel.city, "330000000000"),
    (DEMO_COUNTY_CODE, "演示县", RegionLevel.county, "339900000000"),
    ("339901100000", "城关镇", RegionLevel.township, DEMO_COUNTY_CODE),
    ("339901101000", "清溪镇", RegionLevel.township, DEMO_COUNTY_CODE),
]
INDUSTRIES = [("jixie", "机械"), ("huagong", "化工"), ("jiancai", "建材")]


def database_is_empty(session: Session) -> bool:
    return all(
        session.scalar(select(func.count()).select_from(model)) == 0
        for model in (Region, Industry, Unit, Enterprise, User)
    )


def demo_is_loaded(session: Session) -> bool:
    return (
        session.scalar(select(Region.id).where(Region.code == DEMO_COUNTY_CODE)) is not None
        and session.scalar(select(User.id).where(User.username == "anweiban")) is not None
    )


def load_demo(session: Session, *, clock: Clock) -> dict[str, int]:
    """Create the demo county; refuse a database that already holds other data."""
    if not database_is_empty(session):
        raise Conflict("数据库中已有数据，拒绝加载演示数据（请使用空数据库）")
    regions: dict[str, Region] = {}
    for code, name, level, parent_code in REGIONS:
        parent = regions.get(parent_code) if parent_code else None
        region = Region(code=code, name=name, level=level, parent=parent,
                        path=child_path(parent, code))
        session.add(region)
        regions[code] = region
    industries = {code: Industry(code=code, name=name) for code, name in INDUSTRIES}
    session.add_all(industries.values())
    county, town1, town2 = (regions[c] for c in (DEMO_COUNTY_CODE, "339901100000",
                                                  "339901101000"))
    session.flush()
    department = Unit(name="演示县应急管理局", kind=UnitKind.department, region_id=county.id,
                      regions=[county], industries=[industries["jixie"], industries["huagong"]])
    township_office = Unit(name="城关镇安全生产办公室", kind=UnitKind.township,
                           region_id=town1.id, regions=[town1], industries=[])
    session.add_all([department, township_office])
    ent_a = Enterprise(name="演示机械制造有限公司", uscc="91339901MA2B00001F", region=town1,
                       industry=industries["jixie"], address="城关镇工业园区1号",
                       lat=29.8020, lon=119.6910)
    ent_b = Enterprise(name="清溪精密机械有限公司", uscc="91339901MA2B00002J", region=town2,
                       industry=industries["jixie"], address="清溪镇兴业路8号",
                       lat=29.7650, lon=119.7420)
    assert is_valid_uscc(ent_a.uscc) and is_valid_uscc(ent_b.uscc)
    session.add_all([ent_a, ent_b])
    session.flush()
    users = [
        ("ent_a", "企业A安全员", Role.enterprise, {"enterprise_id": ent_a.id}),
        ("ent_b", "企业B安全员", Role.enterprise, {"enterprise_id": ent_b.id}),
        ("insp_dept", "应急管理局监管员", Role.inspector, {"unit_id": department.id}),
        ("insp_town", "城关镇监管员", Role.inspector, {"unit_id": township_office.id}),
        ("anweiban", "县安委办", Role.committee, {"region_id": county.id}),
        ("admin", "系统管理员", Role.admin, {"region_id": county.id}),
        # 三员分立: the security and the audit admin beside the system admin.
        ("secadmin", "安全管理员", Role.security_admin, {"region_id": county.id}),
        ("auditor", "审计管理员", Role.audit_admin, {"region_id": county.id}),
    ]
    ids = {}
    for username, display, role, scope in users:
        user = create_user(session, username=username, password=DEMO_PASSWORD, role=role,
                           clock=clock, display_name=display, **scope)
        ids[username] = user.id
    return ids
