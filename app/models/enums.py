"""Enumerations stored as strings. StrEnum so values read back from the database compare equal."""

from enum import StrEnum


class Role(StrEnum):
    enterprise = "enterprise"
    inspector = "inspector"
    committee = "committee"
    admin = "admin"  # 系统管理员: regions, units, enterprises, users
    # 三员分立 (等保三级): the security admin keeps roles, passwords, 2FA, locks and
    # deactivation; the audit admin reads the security audit log. Neither takes hazard actions.
    security_admin = "security_admin"  # 安全管理员
    audit_admin = "audit_admin"  # 审计管理员


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"


class UnitKind(StrEnum):
    department = "department"  # 行业主管部门: supervises its industries within its regions
    township = "township"  # 乡镇/街道: supervises every enterprise in its township


class HazardLevel(StrEnum):
    general = "general"
    major = "major"


class PartyType(StrEnum):
    enterprise = "enterprise"
    unit = "unit"


class Duty(StrEnum):
    rectify = "rectify"
    supervise = "supervise"
