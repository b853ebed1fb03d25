from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

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
