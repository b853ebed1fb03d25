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


class TokenForm(BaseModel):
    """The OAuth2 password form (`grant_type`, when sent, must be `password`)."""

    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    grant_type: Annotated[str | None, StringConstraints(pattern="^password$")] = None
