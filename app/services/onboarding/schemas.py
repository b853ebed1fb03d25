"""Response models of the onboarding import (初始化导入)."""

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from app.services.onboarding.check import ImportReport
    from app.services.onboarding.spec import Problem


class ProblemOut(BaseModel):
    code: str = Field(description="机器可读的问题类型，如 uscc_invalid")
    message: str
    kind: str | None = Field(description="regions / units / enterprises / users")
    sheet: str | None = Field(description="工作表名（CSV 为 null）")
    row: int | None = Field(description="行号，表头为第 1 行")
    column: str | None = Field(description="列的英文名")
    header: str | None = Field(description="列的中文表头")
    cell: str | None = Field(description="单元格，如 B5")
    value: str | None

    @classmethod
    def of(cls, problem: "Problem") -> "ProblemOut":
        return cls(**problem.as_dict())


class KindSummary(BaseModel):
    rows: int
    rows_with_problems: int


class InitialPassword(BaseModel):
    username: str
    password: str


class ImportOut(BaseModel):
    ok: bool
    dry_run: bool
    problem_count: int = Field(description="问题总数（problems 最多列出 1000 条）")
    problems: list[ProblemOut]
    summary: dict[str, KindSummary]
    created: dict[str, int] | None = Field(
        None, description="正式导入时各类新建的数量；校验时为 null")
    initial_passwords: list[InitialPassword] = Field(
        default_factory=list,
        description="新用户的初始密码，随机生成，只在此响应中出现一次")

    @classmethod
    def of(cls, report: "ImportReport") -> "ImportOut":
        return cls(
            ok=report.ok, dry_run=report.dry_run, problem_count=report.problem_count,
            problems=[ProblemOut.of(p) for p in report.problems],
            summary={k: KindSummary(**v) for k, v in report.summary.items()},
            created=report.created,
            initial_passwords=[InitialPassword(username=u, password=p)
                               for u, p in report.passwords],
        )


class ImportRefused(BaseModel):
    """422: a commit refused for the problems listed, or a request that cannot be read."""

    detail: str | list[Any]
    ok: bool | None = None
    dry_run: bool | None = None
    problem_count: int | None = None
    problems: list[ProblemOut] | None = None
    summary: dict[str, KindSummary] | None = None
