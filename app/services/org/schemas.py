"""Request and response models of the organisation's administration (docs/admin.md):
regions, supervising units and enterprises."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import RowId
from app.models.enums import RegionLevel, UnitKind

MAX_PAGE = 200
MAX_INDUSTRIES = 50  # per unit
MAX_SUPERVISED_REGIONS = 100  # per unit
NO_NUL = r"^[^\x00]*$"


def _text(max_length: int, min_length: int = 1) -> type[str]:
    return Annotated[str, StringConstraints(  # type: ignore[return-value]
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=NO_NUL)]


RegionName = _text(100)
UnitName = _text(100)
EnterpriseName = _text(200)
Address = _text(300, 0)
RegionCode = Annotated[str, Field(pattern=r"^\d{12}$", title="区划代码",
                                  description="12 位统计用区划代码，如 339901102000")]
Lat = Annotated[float, Field(ge=3.5, le=53.6, title="纬度")]
Lon = Annotated[float, Field(ge=73.5, le=135.1, title="经度")]


# Checked by the service against GB 32100's check character (services/org/uscc.py), after
# NFKC, stripping and upper-casing: a code typed in full-width characters is accepted.
Uscc = Annotated[str, StringConstraints(max_length=40, pattern=NO_NUL), Field(
    title="统一社会信用代码", description="18 位，按 GB 32100 校验")]


class RegionIn(BaseModel):
    """A township or street (乡镇、街道) under a county of the admin's subtree."""

    model_config = ConfigDict(extra="forbid")

    parent_id: RowId = Field(title="上级区划", description="所在县（区）的 id")
    code: RegionCode
    name: RegionName = Field(title="名称")


class RegionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: RegionName = Field(title="名称")


class RegionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    level: RegionLevel
    parent_id: int | None


class RegionPage(BaseModel):
    items: list[RegionOut]
    next_cursor: str | None


class UnitIn(BaseModel):
    """An industry department (行业部门) or a township office (乡镇安监站)."""

    model_config = ConfigDict(extra="forbid")

    name: UnitName = Field(title="单位名称")
    kind: UnitKind = Field(title="单位类型", description="department 行业部门 · township 乡镇")
    region_id: RowId = Field(title="所属区划", description="行业部门：所在县；乡镇：该乡镇")
    industry_ids: list[RowId] = Field(default_factory=list, max_length=MAX_INDUSTRIES,
                                      title="监管行业", description="行业部门必填；乡镇留空")
    region_ids: list[RowId] | None = Field(
        None, max_length=MAX_SUPERVISED_REGIONS, title="监管区划",
        description="监管的区划 id；不填即所属区划")


class UnitPatch(BaseModel):
    """Only the fields sent change; a list sent replaces the old one."""

    model_config = ConfigDict(extra="forbid")

    name: UnitName | None = Field(None, title="单位名称")
    region_id: RowId | None = Field(None, title="所属区划")
    industry_ids: list[RowId] | None = Field(None, max_length=MAX_INDUSTRIES, title="监管行业")
    region_ids: list[RowId] | None = Field(None, min_length=1,
                                           max_length=MAX_SUPERVISED_REGIONS, title="监管区划")


class UnitOut(BaseModel):
    id: int
    name: str
    kind: UnitKind
    region_id: int
    industry_ids: list[int]
    region_ids: list[int]


class UnitPage(BaseModel):
    items: list[UnitOut]
    next_cursor: str | None


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: EnterpriseName = Field(title="企业名称")
    uscc: Uscc
    region_id: RowId = Field(title="所属乡镇", description="乡镇（街道）的 id")
    industry_id: RowId = Field(title="行业")
    address: Address = Field("", title="地址")
    lat: Lat | None = None
    lon: Lon | None = None



class EnterprisePatch(BaseModel):
    """Only the fields sent change. A new township or industry routes the hazards' new
    assignments; assignments made before stay with the units that hold them."""

    model_config = ConfigDict(extra="forbid")

    name: EnterpriseName | None = Field(None, title="企业名称")
    uscc: Uscc | None = None
    region_id: RowId | None = Field(None, title="所属乡镇")
    industry_id: RowId | None = Field(None, title="行业")
    address: Address | None = Field(None, title="地址")
    lat: Lat | None = None
    lon: Lon | None = None



class EnterpriseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    uscc: str
    region_id: int
    industry_id: int
    address: str
    lat: float | None
    lon: float | None


class EnterprisePage(BaseModel):
    items: list[EnterpriseOut]
    next_cursor: str | None
