"""The onboarding import's catalogue: its kinds, their columns, the words users see, problems.

One place for the template's headers and notes, the words accepted for levels, unit kinds and
roles, and the Chinese messages of every problem; `onboarding_files` reads and writes the
files, `onboarding` validates and commits.
"""

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from app.models.enums import RegionLevel, Role, UnitKind


class ImportKind(StrEnum):
    regions = "regions"
    units = "units"
    enterprises = "enterprises"
    users = "users"


@dataclass(frozen=True)
class Column:
    key: str  # English key: accepted as the header, and the template's second row
    label: str  # Chinese header
    required: bool
    note: str  # the template's comment and notes sheet
    max_length: int = 100
    choices: tuple[str, ...] = ()  # a drop-down list in the XLSX template
    text: bool = False  # a code: formatted as text in the XLSX template (no 3.39901E+11)

    @property
    def header(self) -> str:
        """The header as the template writes it: required columns are marked with *."""
        return self.label + ("*" if self.required else "")


@dataclass(frozen=True)
class KindSpec:
    kind: ImportKind
    sheet: str  # the XLSX sheet title
    columns: tuple[Column, ...]
    example: tuple[str, ...]  # one example row, shown on the notes sheet

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


LIST_SEPARATORS = ";；,，、"
LEVEL_WORDS: dict[str, RegionLevel] = {
    "province": RegionLevel.province, "省": RegionLevel.province,
    "city": RegionLevel.city, "市": RegionLevel.city, "地级市": RegionLevel.city,
    "county": RegionLevel.county, "县": RegionLevel.county, "区": RegionLevel.county,
    "县级市": RegionLevel.county, "县区": RegionLevel.county,
    "township": RegionLevel.township, "乡镇": RegionLevel.township,
    "街道": RegionLevel.township, "乡": RegionLevel.township, "镇": RegionLevel.township,
    "乡镇/街道": RegionLevel.township, "乡镇街道": RegionLevel.township,
}
LEVEL_RANK = {RegionLevel.province: 0, RegionLevel.city: 1, RegionLevel.county: 2,
              RegionLevel.township: 3}
# Digits of a 统计用区划代码 that name the division at each level: a child's code starts
# with its parent's (330000000000 > 339900000000 > 339901000000 > 339901100000).
LEVEL_DIGITS = {RegionLevel.province: 2, RegionLevel.city: 4, RegionLevel.county: 6,
                RegionLevel.township: 9}
LEVEL_LABELS = {RegionLevel.province: "省", RegionLevel.city: "市", RegionLevel.county: "县（区）",
                RegionLevel.township: "乡镇/街道"}
UNIT_KIND_WORDS: dict[str, UnitKind] = {
    "department": UnitKind.department, "行业部门": UnitKind.department,
    "行业主管部门": UnitKind.department, "部门": UnitKind.department,
    "township": UnitKind.township, "乡镇": UnitKind.township, "街道": UnitKind.township,
    "乡镇/街道": UnitKind.township, "属地": UnitKind.township,
}
ROLE_WORDS: dict[str, Role] = {
    "enterprise": Role.enterprise, "企业用户": Role.enterprise, "企业": Role.enterprise,
    "inspector": Role.inspector, "监管人员": Role.inspector,
    "committee": Role.committee, "安委办": Role.committee,
    "admin": Role.admin, "系统管理员": Role.admin, "管理员": Role.admin,
}
# The column that holds each role's scope (the others must stay empty).
ROLE_SCOPE_COLUMN = {Role.enterprise: "enterprise_uscc", Role.inspector: "unit_name",
                     Role.committee: "region_code", Role.admin: "region_code"}
ROLE_LABELS = {Role.enterprise: "企业用户", Role.inspector: "监管人员", Role.committee: "安委办",
               Role.admin: "系统管理员"}

CODE_NOTE = "12 位统计用区划代码"
SPECS: dict[ImportKind, KindSpec] = {
    ImportKind.regions: KindSpec(ImportKind.regions, "区划", (
        Column("code", "区划代码", True, f"{CODE_NOTE}，如 339901102000", 12, text=True),
        Column("name", "名称", True, "如 白沙镇"),
        Column("level", "级别", True, "省、市、县 或 乡镇（街道也填 乡镇）",
               choices=("省", "市", "县", "乡镇")),
        Column("parent_code", "上级区划代码", True,
               f"{CODE_NOTE}；上级须已在系统中，或在本文件中", 12, text=True),
    ), ("339901102000", "白沙镇", "乡镇", "339901000000")),
    ImportKind.units: KindSpec(ImportKind.units, "监管单位", (
        Column("name", "单位名称", True, "在您的辖区内不重复，用户表按此名称引用"),
        Column("kind", "单位类型", True, "行业部门 或 乡镇（乡镇、街道的安全生产办公室）",
               choices=("行业部门", "乡镇")),
        Column("region_code", "所属区划代码", True,
               "行业部门：所在县（区）的区划代码；乡镇：该乡镇的区划代码", 12, text=True),
        Column("industries", "监管行业", False,
               "行业部门必填：行业代码或名称，多个用 ; 或 、 分隔；乡镇留空", 500),
        Column("supervised_regions", "监管区划", False,
               "行业部门选填：区划代码，多个用 ; 分隔，留空即所属区划；乡镇留空", 500, text=True),
    ), ("演示县住房和城乡建设局", "行业部门", "339901000000", "建材", "")),
    ImportKind.enterprises: KindSpec(ImportKind.enterprises, "企业", (
        Column("name", "企业名称", True, "营业执照上的名称", 200),
        Column("uscc", "统一社会信用代码", True, "18 位，按 GB 32100 校验", 18, text=True),
        Column("township_code", "所属乡镇区划代码", True, f"{CODE_NOTE}，须为乡镇（街道）",
               12, text=True),
        Column("industry", "行业", True, "行业代码或名称，如 机械"),
        Column("address", "地址", False, "生产经营地址", 300),
        Column("lat", "纬度", False, "选填，与经度同填，如 29.8020", 20),
        Column("lon", "经度", False, "选填，与纬度同填，如 119.6910", 20),
    ), ("白沙建材有限公司", "91339901MA2B00003M", "339901102000", "建材",
        "白沙镇工业区 3 号", "29.7800", "119.7100")),
    ImportKind.users: KindSpec(ImportKind.users, "用户", (
        Column("username", "用户名", True, "登录名：3–64 位字母、数字或 _ . @ -", 64, text=True),
        Column("display_name", "姓名", True, "显示的姓名或岗位"),
        Column("role", "角色", True, "企业用户、监管人员、安委办 或 系统管理员",
               choices=("企业用户", "监管人员", "安委办", "系统管理员")),
        Column("enterprise_uscc", "所属企业统一社会信用代码", False, "企业用户必填，其他角色留空",
               18, text=True),
        Column("unit_name", "所属单位", False, "监管人员必填：监管单位名称，其他角色留空"),
        Column("region_code", "所属区划代码", False, "安委办、系统管理员必填，其他角色留空",
               12, text=True),
        Column("phone", "手机号", False, "选填，如 13800000000", 20, text=True),
    ), ("baisha_jc", "白沙建材安全员", "企业用户", "91339901MA2B00003M", "", "", "13800000000")),
}
# Sheet titles (and English keys) that name each kind; the notes sheet is skipped.
SHEET_KINDS: dict[str, ImportKind] = {
    **{spec.sheet: kind for kind, spec in SPECS.items()},
    **{kind.value: kind for kind in ImportKind},
}
NOTES_SHEET = "说明"
NOTES = (
    "bihuan 初始化导入模板：每个工作表一类数据，可只填其中几张表，其余留空。",
    "第 1 行为表头（带 * 的列必填），第 2 行为英文列名（导入时可保留或删除），"
    "从第 3 行起填写数据。",
    "后面的行可以引用前面的表或行：企业的乡镇可以是本文件「区划」表新建的乡镇，"
    "用户的企业、单位、区划也可以在本文件中新建。",
    "区划、单位、企业、用户都只能在您的管辖区划内新建；已在系统中的不能重复导入。",
    "单元格中的公式不会被计算，请粘贴为数值。区划代码、信用代码请以文本格式填写。",
    "用户的初始密码由系统随机生成，只在导入成功时显示一次，请妥善转交并提醒用户修改。",
    "先「校验」（dry_run=true）查看全部问题，再正式导入；正式导入全部成功或全部不写入。",
)


@dataclass
class Problem:
    """One thing wrong with the file, where a spreadsheet user finds it."""

    code: str  # machine-readable, e.g. "uscc_invalid"
    message: str  # Chinese, for the admin
    kind: str | None = None
    sheet: str | None = None  # the sheet's title as in the workbook (None for a CSV)
    row: int | None = None  # as the spreadsheet numbers it: the header is row 1
    column: str | None = None  # the column's English key
    header: str | None = None  # the column's Chinese header
    cell: str | None = None  # e.g. "B5"
    value: str | None = None  # the cell's text (shortened)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


MESSAGES = {
    "required": "必填",
    "too_long": "不能超过 {limit} 个字符",
    "control": "含有换行或其他控制字符",
    "formula": "单元格是公式（导入时不计算公式），请粘贴为数值",
    "unknown_sheet": "无法识别的工作表「{title}」，"
                     "工作表应为：区划、监管单位、企业、用户（或说明）",
    "duplicate_sheet": "与工作表「{title}」是同一类数据，请合并为一张表",
    "no_header": "第 1 行应为表头",
    "unknown_column": "无法识别的列「{text}」",
    "duplicate_column": "列「{text}」重复",
    "missing_column": "缺少必填列「{header}」",
    "empty": "文件中没有可导入的数据行",
    "duplicate_in_file": "与第 {row} 行重复",
    "region_code_format": "区划代码应为 12 位数字",
    "region_exists": "区划代码 {code} 已在系统中",
    "level": "级别应为 省、市、县 或 乡镇",
    "region_unknown": "区划 {code} 在系统和本文件中都不存在",
    "region_out_of_scope": "区划 {code} 不在您的管辖范围内",
    "parent_level": "上级区划 {code} 是{parent}级，{level}级区划的上级应比它高一级或以上",
    "code_prefix": "区划代码应以上级区划代码的前 {digits} 位 {prefix} 开头",
    "unit_kind": "单位类型应为 行业部门 或 乡镇",
    "unit_exists": "您的辖区内已有名为「{name}」的单位",
    "township_required": "区划 {code} 不是乡镇（街道）",
    "township_unit_extra": "乡镇单位监管其所在乡镇，此列应留空",
    "industries_required": "行业部门须填写监管行业",
    "industry_unknown": "系统中没有行业「{name}」（可用：{known}）",
    "uscc_invalid": "统一社会信用代码不正确：{reason}",
    "uscc_exists": "统一社会信用代码 {code} 已在系统中登记",
    "coordinate": "应为数字",
    "coordinates_pair": "经度和纬度须同时填写",
    "coordinates_range": "经纬度应在中国境内（纬度 3.5–53.6，经度 73.5–135.1），是否填反了？",
    "username_format": "用户名应为 3–64 位字母、数字或 _ . @ -",
    "username_exists": "用户名 {name} 已存在",
    "role": "角色应为 企业用户、监管人员、安委办 或 系统管理员",
    "scope_required": "角色为{role}时必填",
    "scope_extra": "角色为{role}时此列应留空",
    "enterprise_unknown": "统一社会信用代码为 {code} 的企业不在系统（您的辖区）中，也不在本文件中",
    "unit_unknown": "单位「{name}」不在系统（您的辖区）中，也不在本文件中",
    "unit_ambiguous": "辖区内有多个名为「{name}」的单位，请先在系统中区分它们的名称",
    "phone": "手机号应为 11 位手机号码或带区号的固定电话",
    # request-level refusals (no row-by-row report is possible)
    "no_file": "请以表单文件字段 file 上传 XLSX 或 CSV 文件",
    "too_large": "文件超过 {limit_mb} MB 上限",
    "too_many_rows": "数据行超过 {limit} 行上限，请分批导入",
    "too_many_users": "用户超过 {limit} 个上限（每个用户的密码哈希需要时间），请分批导入",
    "csv_kind": "CSV 文件一次导入一类数据，"
                "请用参数 kind 指明：regions、units、enterprises 或 users",
    "xls": "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV",
    "xlsx": "无法读取 XLSX 文件：{error}",
    "encoding": "无法识别 CSV 的编码，请保存为 UTF-8 或 GB18030（GBK）",
    "csv": "CSV 格式错误：{error}",
    "rejected": "导入文件有 {count} 处问题，未写入任何数据",
    "conflict": "导入期间有人新建了相同的数据，请重新校验后再导入",
}
