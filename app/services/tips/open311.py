"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) over public tips.

Each service is a hazard category; each service request is a tip. The request's id is the
tip's receipt (查询码): sequential ids would let anyone walk through every tip's outcome, and
GeoReport's `requests/{id}` needs no account. The `token` is the same code.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import Unprocessable
from app.core.schemas import LocalDateTime
from app.services.hazards.photos import Upload
from app.services.tips import receipts
from app.services.tips.abuse import refusals_recorded
from app.services.tips.report import accept_tip
from app.services.tips.schemas import CATEGORIES, TipStatus

OPEN_STATUSES = {TipStatus.received, TipStatus.converted, TipStatus.merged}


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = False
    type: str = "realtime"
    keywords: str = ""
    group: str = "安全生产隐患"


class RequestCreated(BaseModel):
    service_request_id: str
    token: str
    service_notice: str = "请保存查询码以便查询办理结果"
    account_id: str | None = None


class ServiceRequest(BaseModel):
    service_request_id: str
    status: str  # open | closed
    status_notes: str
    service_code: str | None
    service_name: str | None
    requested_datetime: LocalDateTime
    updated_datetime: LocalDateTime


def services() -> list[Service]:
    return [Service(service_code=code, service_name=name, description=f"{name}方面的事故隐患")
            for code, name in CATEGORIES.items()]


def create_request(session: Session, *, form: dict[str, str], media: list[Upload],
                   address: str, clock: Clock) -> RequestCreated:
    """A tip from GeoReport's fields; a refusal is recorded like any tip's."""
    with refusals_recorded(session, address=address, channel="open311", now=clock.now):
        return _create(session, form, media, address, clock)


def _create(session: Session, form: dict[str, str], media: list[Upload], address: str,
            clock: Clock) -> RequestCreated:
    code = (form.get("service_code") or "").strip()
    if code not in CATEGORIES:
        raise Unprocessable([{"loc": ["body", "service_code"], "type": "enum",
                              "msg": "未知的 service_code（见 services.json）"}])
    lat, lon = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    where = (form.get("address_string") or "").strip()
    if not where and not (lat and lon):
        raise Unprocessable([{"loc": ["body", "address_string"], "type": "missing",
                              "msg": "请提供 lat 与 long，或 address_string"}])
    if not media and (form.get("media_url") or "").strip():
        # Fetching a URL a stranger names would make the server a proxy (SSRF); the photo is
        # evidence, so it comes as a file like any tip's.
        raise Unprocessable([{"loc": ["body", "media"], "type": "missing",
                              "msg": "不下载 media_url：请以 media 文件上传至少一张照片"}])
    fields: dict[str, Any] = {
        "category": code,
        "description": (form.get("description") or "").strip() or CATEGORIES[code],
        "location": where or f"坐标 {lat}, {lon}",
        "lat": lat, "lon": lon, "phone": (form.get("phone") or "").strip(),
    }
    tip = accept_tip(session, form=fields, uploads=media, address=address, clock=clock)
    return RequestCreated(service_request_id=tip.receipt, token=tip.receipt)


def get_request(session: Session, request_id: str) -> ServiceRequest:
    tip = receipts.find_by_receipt(session, request_id)
    status, outcome = receipts.public_status(session, tip)
    return ServiceRequest(
        service_request_id=tip.receipt,
        status="open" if status in OPEN_STATUSES else "closed",
        status_notes=outcome,
        service_code=tip.category,
        service_name=CATEGORIES.get(tip.category or ""),
        requested_datetime=tip.received_at,
        updated_datetime=tip.updated_at,
    )
