from pydantic import BaseModel

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
