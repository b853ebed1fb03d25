"""安全码: each enterprise's QR code to a signed public page showing its name and colour.

The colour (四色): red when the enterprise has a 重大 risk point or an open major hazard, else
the colour of its highest risk point (较大 orange, 一般 yellow, 低 blue); blue when it has none.
The page's address carries an HMAC of the enterprise id under the server's secret, so ids
cannot be walked to list enterprises.
"""

import base64
import hashlib
import hmac
import io

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import valid_id
from app.core.errors import NotFound
from app.models import Enterprise, Hazard, RiskPoint
from app.models.checks import RiskLevel
from app.models.enums import HazardLevel
from app.services.checks.register import COLOURS
from app.workflow.states import ENDED_STATES

RANK = {RiskLevel.major: 4, RiskLevel.high: 3, RiskLevel.medium: 2, RiskLevel.low: 1}
COLOUR_LABELS = {"red": "红色（重大风险）", "orange": "橙色（较大风险）",
                 "yellow": "黄色（一般风险）", "blue": "蓝色（低风险）"}
COLOUR_HEX = {"red": "#d32f2f", "orange": "#f57c00", "yellow": "#fbc02d", "blue": "#1976d2"}


def signature(enterprise_id: int) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"safety-code|{enterprise_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def public_path(enterprise_id: int) -> str:
    return f"/safety/{enterprise_id}?s={signature(enterprise_id)}"


def tip_code(enterprise_id: int) -> str:
    """What the 安全码's tip form sends: the enterprise's id with its signature."""
    return f"{enterprise_id}.{signature(enterprise_id)}"


def enterprise_of_tip_code(session: Session, code: str) -> Enterprise:
    """The enterprise a tip code names; 404 for a code this server did not sign."""
    number, _, sig = code.partition(".")
    return public_enterprise(session, int(number) if number.isdigit() else 0, sig)


def colour_of(session: Session, enterprise_id: int) -> str:
    open_major = session.scalar(select(Hazard.id).where(
        Hazard.enterprise_id == enterprise_id, Hazard.level == HazardLevel.major,
        Hazard.state.not_in(ENDED_STATES)).limit(1))
    if open_major is not None:
        return "red"
    levels = {RiskLevel(level) for level in session.scalars(
        select(RiskPoint.level).where(RiskPoint.enterprise_id == enterprise_id).distinct())}
    if not levels:
        return "blue"
    return COLOURS[max(levels, key=RANK.__getitem__)]


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def public_enterprise(session: Session, enterprise_id: int, sig: str) -> Enterprise:
    """The enterprise a signed address names; 404 for any other address."""
    enterprise = session.get(Enterprise, enterprise_id) if valid_id(enterprise_id) else None
    if enterprise is None or not hmac.compare_digest(sig, signature(enterprise_id)):
        raise NotFound("安全码无效")
    return enterprise
