"""The generated province's organisation: regions, industries, units, enterprises, users.

Codes follow the 统计用区划代码 layout (province 2 + city 2 + county 2 + township 3 + village
3 digits). The province prefix 99 is used by no real division, so a generated tree can never
be mistaken for, or collide with, a real one. Every county has the three industry
departments of `DEPARTMENTS` and one office per township (三管三必须: each industry maps to
exactly one department), so the routing of app/services/hazards/routing.py finds the same units the
generator assigns.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from app.core.security import hash_password
from app.devtools.scale.copy import copy_rows
from app.models.enums import RegionLevel, Role, UnitKind
from app.services.org.uscc import ALPHABET, check_character, is_valid_uscc

PROVINCE_CODE = "99"
PROVINCE_NAME = "示范省"
TOWNSHIPS_PER_COUNTY = 10
COUNTIES_PER_CITY = 5
SCALE_PASSWORD = "scale-pass-2026"  # noqa: S105 (generated test data, documented in README)

# (code, name, weight among enterprises)
INDUSTRIES: tuple[tuple[str, str, int], ...] = (
    ("jixie", "机械", 25), ("huagong", "化工", 8), ("yejin", "冶金", 5),
    ("weihua", "危险化学品经营", 4), ("qinggong", "轻工", 20), ("fangzhi", "纺织", 15),
    ("jiancai", "建材", 13), ("jianzhu", "建筑施工", 10),
)
# Industry departments of every county and the industries each supervises.
DEPARTMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("应急管理局", ("jixie", "huagong", "yejin", "weihua")),
    ("经济和信息化局", ("qinggong", "fangzhi", "jiancai")),
    ("住房和城乡建设局", ("jianzhu",)),
)
NUMERALS = "一二三四五六七八九十"
SYLLABLES = "安宁兴华丰泰和平康盛明远清新永昌顺达金源"
NAME_WORDS = ("精工", "宏达", "恒信", "联合", "鑫源", "华泰", "永盛", "东方", "天成", "瑞丰")


@dataclass
class Township:
    id: int
    code: str
    name: str
    county_index: int
    office_unit_id: int = 0
    office_user_id: int = 0


@dataclass
class County:
    id: int
    code: str
    name: str
    committee_user_id: int = 0
    # industry code -> (department unit id, its inspector's user id)
    departments: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Firm:
    """What a hazard's story needs to know about its enterprise and the parties around it."""

    id: int
    township_id: int
    county_code: str  # the 6-digit prefix used in hazard codes (hazards._next_code)
    user_id: int
    department_unit_id: int
    department_user_id: int
    office_unit_id: int
    office_user_id: int
    committee_user_id: int
    county_name: str
    industry: str


@dataclass
class Organisation:
    counties: list[County]
    townships: list[Township]
    firms: list[Firm]
    user_count: int
    unit_count: int
    region_count: int


def _region_name(rng: random.Random, suffix: str) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(2)) + suffix


def org_code_check(body8: str) -> str:
    """The check character of a 9-character 组织机构代码 (GB 11714), the 9th character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w
                for c, w in zip(body8, weights, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(rng: random.Random, county_code: str, taken: set[str]) -> str:
    """A valid 统一社会信用代码 of an enterprise (91: 工商, enterprise) in the county."""
    while True:
        body = "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
        first17 = "91" + county_code + body + org_code_check(body)
        code = first17 + check_character(first17)
        if code not in taken and is_valid_uscc(code):
            taken.add(code)
            return code


def build(cursor: psycopg.Cursor[Any], rng: random.Random, *, enterprises: int, townships: int,
          now: datetime) -> Organisation:
    """Write the organisation with COPY (ids from 1: the database is empty) and return it."""
    n_counties = -(-townships // TOWNSHIPS_PER_COUNTY)
    n_cities = -(-n_counties // COUNTIES_PER_CITY)
    regions: list[tuple[Any, ...]] = []  # id, code, name, level, parent_id, path
    province_code = PROVINCE_CODE + "0" * 10
    regions.append((1, province_code, PROVINCE_NAME, RegionLevel.province.value, None,
                    f"/{province_code}/"))
    city_rows = []
    for c in range(n_cities):
        code = f"{PROVINCE_CODE}{c + 1:02d}" + "0" * 8
        row = (len(regions) + 1, code, _region_name(rng, "市"), RegionLevel.city.value, 1,
               f"/{province_code}/{code}/")
        regions.append(row)
        city_rows.append(row)
    counties: list[County] = []
    county_paths = []
    for k in range(n_counties):
        city = city_rows[k // COUNTIES_PER_CITY]
        code = city[1][:4] + f"{k % COUNTIES_PER_CITY + 1:02d}" + "0" * 6
        rid = len(regions) + 1
        name = _region_name(rng, "县")
        regions.append((rid, code, name, RegionLevel.county.value, city[0], f"{city[5]}{code}/"))
        counties.append(County(rid, code, name))
        county_paths.append(f"{city[5]}{code}/")
    towns: list[Township] = []
    for t in range(townships):
        k = t // TOWNSHIPS_PER_COUNTY
        county = counties[k]
        code = county.code[:6] + f"{100 + t % TOWNSHIPS_PER_COUNTY + 1:03d}000"
        rid = len(regions) + 1
        name = _region_name(rng, "镇")
        regions.append((rid, code, name, RegionLevel.township.value, county.id,
                        f"{county_paths[k]}{code}/"))
        towns.append(Township(rid, code, name, k))
    copy_rows(cursor, "region", ("id", "code", "name", "level", "parent_id", "path"), regions)

    industry_ids = {code: i + 1 for i, (code, _, _) in enumerate(INDUSTRIES)}
    copy_rows(cursor, "industry", ("id", "code", "name"),
              [(industry_ids[code], code, name) for code, name, _ in INDUSTRIES])

    units, unit_regions, unit_industries = [], [], []
    users: list[tuple[Any, ...]] = []  # id, username, display_name, role, ent, unit, region
    for county in counties:
        for name, industries in DEPARTMENTS:
            uid = len(units) + 1
            units.append((uid, f"{county.name}{name}", UnitKind.department.value, county.id))
            unit_regions.append((uid, county.id))
            unit_industries += [(uid, industry_ids[i]) for i in industries]
            user_id = len(users) + 1
            users.append((user_id, f"jg{uid:05d}", f"{county.name}{name}监管员",
                          Role.inspector.value, None, uid, None))
            county.departments.update({i: (uid, user_id) for i in industries})
        county.committee_user_id = len(users) + 1
        users.append((county.committee_user_id, f"awb{county.code[:6]}", f"{county.name}安委办",
                      Role.committee.value, None, None, county.id))
        users.append((len(users) + 1, f"admin{county.code[:6]}", f"{county.name}系统管理员",
                      Role.admin.value, None, None, county.id))
    for town in towns:
        uid = len(units) + 1
        units.append((uid, f"{town.name}安全生产办公室", UnitKind.township.value, town.id))
        unit_regions.append((uid, town.id))
        town.office_unit_id, town.office_user_id = uid, len(users) + 1
        users.append((town.office_user_id, f"jg{uid:05d}", f"{town.name}监管员",
                      Role.inspector.value, None, uid, None))
    for city in city_rows:
        users.append((len(users) + 1, f"awb{city[1][:4]}", f"{city[2]}安委办",
                      Role.committee.value, None, None, city[0]))
    users.append((len(users) + 1, f"awb{PROVINCE_CODE}", f"{PROVINCE_NAME}安委办",
                  Role.committee.value, None, None, 1))
    users.append((len(users) + 1, f"admin{PROVINCE_CODE}", f"{PROVINCE_NAME}系统管理员",
                  Role.admin.value, None, None, 1))
    copy_rows(cursor, "unit", ("id", "name", "kind", "region_id"), units)
    copy_rows(cursor, "unit_region", ("unit_id", "region_id"), unit_regions)
    copy_rows(cursor, "unit_industry", ("unit_id", "industry_id"), unit_industries)

    codes = [code for code, _, _ in INDUSTRIES]
    weights = [w for _, _, w in INDUSTRIES]
    names = {code: name for code, name, _ in INDUSTRIES}
    firm_rows, firms, taken = [], [], set()
    for e in range(enterprises):
        town = towns[e % townships]
        county = counties[town.county_index]
        industry = rng.choices(codes, weights)[0]
        eid = e + 1
        user_id = len(users) + 1
        name = f"{town.name[:2]}{rng.choice(NAME_WORDS)}{names[industry]}{eid}号有限公司"
        firm_rows.append((eid, name, make_uscc(rng, county.code[:6], taken), town.id,
                          industry_ids[industry], f"{town.name}工业园区{rng.randint(1, 300)}号",
                          round(28 + rng.random() * 4, 6), round(114 + rng.random() * 4, 6)))
        users.append((user_id, f"qy{eid:06d}", f"{name}安全员", Role.enterprise.value, eid,
                      None, None))
        dept_unit, dept_user = county.departments[industry]
        firms.append(Firm(eid, town.id, county.code[:6], user_id, dept_unit, dept_user,
                          town.office_unit_id, town.office_user_id, county.committee_user_id,
                          county.name, industry))
    copy_rows(cursor, "enterprise", ("id", "name", "uscc", "region_id", "industry_id", "address",
                                     "lat", "lon"), firm_rows)
    # One argon2 hash for every generated user: hashing 20,000 passwords would take minutes.
    password_hash = hash_password(SCALE_PASSWORD)
    at = now.isoformat()
    copy_rows(cursor, "user", ("id", "username", "display_name", "password_hash", "role",
                               "enterprise_id", "unit_id", "region_id", "active", "created_at"),
              ((i, u, d, password_hash, r, e, un, rg, True, at)
               for i, u, d, r, e, un, rg in users))
    return Organisation(counties, towns, firms, len(users), len(units), len(regions))
