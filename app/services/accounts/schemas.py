from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import LocalDateTime, RowId
from app.models.enums import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)


class Me(BaseModel):
    id: int
    username: str
    role: Role
    unit_id: int | None
    enterprise_id: int | None
    region_id: int | None
    # The gates (docs/accounts.md): a password to change, a second factor enrolled.
    password_change_required: bool
    otp_enabled: bool


class TokenForm(BaseModel):
    """The OAuth2 password form (`grant_type`, when sent, must be `password`)."""

    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    grant_type: Annotated[str | None, StringConstraints(pattern="^password$")] = None
    # The second factor, for a user who enabled it: the authenticator's 6-digit code, or one
    # of the recovery codes.
    otp: Annotated[str | None, StringConstraints(max_length=64)] = None


class PasswordChangeForm(BaseModel):
    """`POST /me/password`: the current password and the new one (rules: docs/accounts.md)."""

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class OtpConfirmForm(BaseModel):
    """`POST /me/otp/confirm`: a code the authenticator shows for the new secret."""

    otp: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class OtpEnrolment(BaseModel):
    """The new secret (base32) and the key URI to show as a QR code."""

    secret: str
    otpauth_uri: str


class RecoveryCodes(BaseModel):
    """One-time codes that stand in for the phone; shown only this once."""

    recovery_codes: list[str]


# Administration of accounts (docs/admin.md) ------------------------------------------------

MAX_PAGE = 200
Username = Annotated[str, StringConstraints(strip_whitespace=True,
                                            pattern=r"^[A-Za-z0-9_.@-]{3,64}$"), Field(
    title="用户名", description="登录名：3–64 位字母、数字或 _ . @ -")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100,
                                               pattern=r"^[^\x00]*$"), Field(title="姓名")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20,
                                         pattern=r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"),
                  Field(title="手机号", description="如 13800000000 或 0579-82000000")]


class UserIn(BaseModel):
    """A new account: the scope its role needs (enterprise_id, unit_id or region_id)."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    role: Role = Field(title="角色")
    display_name: DisplayName = ""
    enterprise_id: RowId | None = Field(None, title="所属企业", description="企业用户")
    unit_id: RowId | None = Field(None, title="所属单位", description="监管人员")
    region_id: RowId | None = Field(None, title="所属区划",
                                    description="安委办、系统管理员、安全管理员、审计管理员")
    phone: Phone | None = None


class UserPatch(BaseModel):
    """Only the fields sent change. A new role needs its scope sent with it; `phone` null
    clears it. Deactivation, a role or scope change end the user's tokens at once."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = Field(None, title="启用")
    role: Role | None = Field(None, title="角色")
    display_name: DisplayName | None = None
    enterprise_id: RowId | None = Field(None, title="所属企业")
    unit_id: RowId | None = Field(None, title="所属单位")
    region_id: RowId | None = Field(None, title="所属区划")
    phone: Phone | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    enterprise_id: int | None
    unit_id: int | None
    region_id: int | None
    phone: str | None
    active: bool
    created_at: LocalDateTime
    password_change_required: bool
    otp_enabled: bool


class UserCreated(UserOut):
    temporary_password: str = Field(description="临时密码，仅此一次返回；首次登录须修改")


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class PasswordResetOut(BaseModel):
    temporary_password: str = Field(description="临时密码，仅此一次返回；下次登录须修改")
