"""Administration (docs/api.md, "Administration"; docs/admin.md): users, enterprises, units
and regions of the caller's region subtree. Bodies are JSON (the same fields as a form are
accepted), validated by the services after the caller's scope (app/http/bodies.py)."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.schemas import NO_NUL
from app.http.bodies import BodyDep
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.openapi import errors, form_body
from app.models.enums import Role
from app.services.accounts import users
from app.services.accounts.schemas import (
    MAX_PAGE,
    PasswordResetOut,
    UserCreated,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)
from app.services.org import admin as org
from app.services.org.schemas import (
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePage,
    EnterprisePatch,
    RegionIn,
    RegionOut,
    RegionPage,
    RegionPatch,
    UnitIn,
    UnitOut,
    UnitPage,
    UnitPatch,
)

router = APIRouter(prefix="/admin", tags=["admin"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=100, pattern=NO_NUL)]
LIST = errors(401, 403, 422)
CREATE = errors(401, 403, 409, 413, 415, 422)
CHANGE = errors(401, 403, 404, 409, 413, 415, 422)


def body(name: str, model: type, description: str = "") -> dict:
    return form_body(name, model, json=True, description=description)


# Users ------------------------------------------------------------------------------------

def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/users", response_model=UserPage, responses=LIST)
def list_users(actor: ActorDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None,
               role: Role | None = None,
               q: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
               ) -> UserPage:
    """The accounts of the caller's region subtree, in id order (`q`: part of the username)."""
    rows, next_cursor = users.list_users(session, actor, role=role, q=q, limit=limit,
                                         cursor=cursor)
    return UserPage(items=[user_out(u) for u in rows], next_cursor=next_cursor)


@router.post("/users", response_model=UserCreated, status_code=201, responses=CREATE,
             openapi_extra=body("AdminUserForm", UserIn))
def create_user(data: BodyDep, actor: ActorDep, session: SessionDep,
                clock: ClockDep) -> UserCreated:
    """A new account with a temporary password (returned once; changed at first login)."""
    user, password = users.admin_create_user(session, actor, data, clock)
    return UserCreated(**user_out(user).model_dump(), temporary_password=password)


@router.get("/users/{user_id:int}", response_model=UserOut, responses=errors(401, 403, 404))
def get_user(user_id: int, actor: ActorDep, session: SessionDep) -> UserOut:
    return user_out(users.get_user(session, actor, user_id))


@router.patch("/users/{user_id:int}", response_model=UserOut, responses=CHANGE,
              openapi_extra=body("AdminUserPatchForm", UserPatch))
def update_user(user_id: int, data: BodyDep, actor: ActorDep, session: SessionDep,
                clock: ClockDep) -> UserOut:
    """Deactivate or reactivate (`active`), change role and scope, phone, name."""
    return user_out(users.update_user(session, actor, user_id, data, clock))


@router.post("/users/{user_id:int}/password-reset", response_model=PasswordResetOut,
             responses=errors(401, 403, 404))
def reset_password(user_id: int, actor: ActorDep, session: SessionDep,
                   clock: ClockDep) -> PasswordResetOut:
    """A new temporary password (returned once); the user must change it at next login and
    every token and page session it held ends now."""
    return PasswordResetOut(temporary_password=users.reset_password(session, actor, user_id,
                                                                    clock))


@router.post("/users/{user_id:int}/unlock", response_model=UserOut,
             responses=errors(401, 403, 404))
def unlock_user(user_id: int, actor: ActorDep, session: SessionDep,
                clock: ClockDep) -> UserOut:
    """End a login lockout (failed logins since the last success stop counting)."""
    return user_out(users.unlock_user(session, actor, user_id, clock))


# Enterprises ------------------------------------------------------------------------------

@router.get("/enterprises", response_model=EnterprisePage, responses=LIST)
def list_enterprises(actor: ActorDep, session: SessionDep, limit: Limit = 50,
                     cursor: Cursor = None) -> EnterprisePage:
    rows, next_cursor = org.list_enterprises(session, actor, limit=limit, cursor=cursor)
    return EnterprisePage(items=[EnterpriseOut.model_validate(e) for e in rows],
                          next_cursor=next_cursor)


@router.post("/enterprises", response_model=EnterpriseOut, status_code=201, responses=CREATE,
             openapi_extra=body("AdminEnterpriseForm", EnterpriseIn))
def create_enterprise(data: BodyDep, actor: ActorDep, session: SessionDep,
                      clock: ClockDep) -> EnterpriseOut:
    return EnterpriseOut.model_validate(org.create_enterprise(session, actor, data, clock))


@router.patch("/enterprises/{enterprise_id:int}", response_model=EnterpriseOut,
              responses=CHANGE, openapi_extra=body("AdminEnterprisePatchForm", EnterprisePatch))
def update_enterprise(enterprise_id: int, data: BodyDep, actor: ActorDep, session: SessionDep,
                      clock: ClockDep) -> EnterpriseOut:
    """Change an enterprise; a new township or industry routes new assignments only."""
    return EnterpriseOut.model_validate(
        org.update_enterprise(session, actor, enterprise_id, data, clock))


# Units ------------------------------------------------------------------------------------

@router.get("/units", response_model=UnitPage, responses=LIST)
def list_units(actor: ActorDep, session: SessionDep, limit: Limit = 50,
               cursor: Cursor = None) -> UnitPage:
    rows, next_cursor = org.list_units(session, actor, limit=limit, cursor=cursor)
    return UnitPage(items=[org.unit_out(u) for u in rows], next_cursor=next_cursor)


@router.post("/units", response_model=UnitOut, status_code=201, responses=CREATE,
             openapi_extra=body("AdminUnitForm", UnitIn))
def create_unit(data: BodyDep, actor: ActorDep, session: SessionDep,
                clock: ClockDep) -> UnitOut:
    return org.unit_out(org.create_unit(session, actor, data, clock))


@router.patch("/units/{unit_id:int}", response_model=UnitOut, responses=CHANGE,
              openapi_extra=body("AdminUnitPatchForm", UnitPatch))
def update_unit(unit_id: int, data: BodyDep, actor: ActorDep, session: SessionDep,
                clock: ClockDep) -> UnitOut:
    return org.unit_out(org.update_unit(session, actor, unit_id, data, clock))


# Regions ----------------------------------------------------------------------------------

@router.get("/regions", response_model=RegionPage, responses=LIST)
def list_regions(actor: ActorDep, session: SessionDep, limit: Limit = 50,
                 cursor: Cursor = None) -> RegionPage:
    rows, next_cursor = org.list_regions(session, actor, limit=limit, cursor=cursor)
    return RegionPage(items=[RegionOut.model_validate(r) for r in rows],
                      next_cursor=next_cursor)


@router.post("/regions", response_model=RegionOut, status_code=201, responses=CREATE,
             openapi_extra=body("AdminRegionForm", RegionIn))
def create_region(data: BodyDep, actor: ActorDep, session: SessionDep,
                  clock: ClockDep) -> RegionOut:
    """A township or street under a county of the subtree (regions are never deleted)."""
    return RegionOut.model_validate(org.create_region(session, actor, data, clock))


@router.patch("/regions/{region_id:int}", response_model=RegionOut, responses=CHANGE,
              openapi_extra=body("AdminRegionPatchForm", RegionPatch))
def update_region(region_id: int, data: BodyDep, actor: ActorDep, session: SessionDep,
                  clock: ClockDep) -> RegionOut:
    """Rename a region."""
    return RegionOut.model_validate(org.update_region(session, actor, region_id, data, clock))
