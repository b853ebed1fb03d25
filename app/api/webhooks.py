"""Webhook subscriptions (admin only) and their delivery log."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from app.core.schemas import LocalDateTime, RowId
from app.http.deps import ActorDep, ClockDep, SessionDep
from app.http.openapi import errors
from app.services.outbox import webhooks as service

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

Topic = Annotated[str, Field(pattern=r"^[a-z_]{1,32}$", description="事件动作，如 report、assign")]


class WebhookIn(BaseModel):
    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=500)]
    topics: Annotated[list[Topic], Field(max_length=50, description="为空时接收全部")] = Field(
        default_factory=list)
    region_id: RowId | None = Field(None, description="默认为管理员所辖区域；须在其辖区内")


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    topics: list[str]
    region_id: int
    active: bool
    created_at: LocalDateTime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="HMAC-SHA256 签名密钥，仅在创建时返回一次")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: int
    status: str
    attempts: int
    next_attempt_at: LocalDateTime
    last_status_code: int | None
    last_error: str | None
    delivered_at: LocalDateTime | None


@router.post("", response_model=WebhookCreated, status_code=201,
             responses=errors(401, 403, 422))
def create_webhook(body: WebhookIn, actor: ActorDep, session: SessionDep,
                   clock: ClockDep) -> WebhookCreated:
    """Subscribe a URL to the hazards of a region; the signing secret is returned only here."""
    hook = service.create_webhook(session, actor=actor, url=str(body.url), topics=body.topics,
                                  region_id=body.region_id, now=clock.now())
    return WebhookCreated.model_validate(hook)


@router.get("", response_model=list[WebhookOut], responses=errors(401, 403))
def list_webhooks(actor: ActorDep, session: SessionDep) -> list[WebhookOut]:
    return [WebhookOut.model_validate(h) for h in service.list_webhooks(session, actor=actor)]


@router.delete("/{webhook_id:int}", response_model=WebhookOut,
               responses=errors(401, 403, 404, 422))
def deactivate_webhook(webhook_id: int, actor: ActorDep, session: SessionDep,
                       clock: ClockDep) -> WebhookOut:
    """Deactivate: nothing more is sent; pending deliveries become dead letters."""
    hook = service.deactivate_webhook(session, actor=actor, webhook_id=webhook_id,
                                      now=clock.now())
    return WebhookOut.model_validate(hook)


@router.get("/{webhook_id:int}/deliveries", response_model=list[DeliveryOut],
            responses=errors(401, 403, 404, 422))
def list_deliveries(webhook_id: int, actor: ActorDep, session: SessionDep) -> list[DeliveryOut]:
    """The delivery log, newest first: status, attempts, last answer or error."""
    rows = service.deliveries_of(session, actor=actor, webhook_id=webhook_id)
    return [DeliveryOut.model_validate(d) for d in rows]
