"""Accounts (docs/api.md, Authentication): the token for a username and password, and who the
caller is."""

from typing import Annotated

from fastapi import APIRouter, Form

from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.openapi import errors
from app.services.accounts import auth as auth_service
from app.services.accounts.schemas import Me, Token, TokenForm

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=Token, responses=errors(401, 422, 429))
def issue_token(
    form: Annotated[TokenForm, Form()], session: SessionDep, clock: ClockDep
) -> Token:
    """OAuth2 password flow: a bearer token for a username and password."""
    token = auth_service.login(
        session, username=form.username, password=form.password, clock=clock
    )
    return Token(access_token=token)


@router.get("/me", response_model=Me, responses=errors(401))
def me(actor: ActorDep) -> Me:
    return Me(
        id=actor.id,
        username=actor.username,
        role=actor.role,
        unit_id=actor.unit_id,
        enterprise_id=actor.enterprise_id,
        region_id=actor.region_id,
    )
