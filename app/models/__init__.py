"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

from app.models.accounts import (
    LoginAttempt,
    PasswordHistory,
    RecoveryCode,
    RevokedSession,
    User,
)
from app.models.audit import AuditChain, AuditEntry
from app.models.board import RankingMonth
from app.models.checks import (
    CheckCampaign,
    CheckItem,
    CheckItemPhoto,
    CheckTask,
    ControlMeasure,
    RiskPoint,
    Sweep,
)
from app.models.criteria import CriteriaDocument, Criterion
from app.models.crypto import CryptoState
from app.models.hazards import Assignment, Event, Hazard, HazardCounter, Photo
from app.models.idempotency import IdempotencyKey
from app.models.integrity import AuditCheckpoint, AuditCheckpointHead
from app.models.org import (
    Enterprise,
    Industry,
    Region,
    SpotCheckPolicy,
    Unit,
    unit_industry,
    unit_region,
)
from app.models.outbox import OutboxMessage, Webhook, WebhookDelivery
from app.models.statistics import QuarterlyFiling, QuarterlyTally, QuarterlyTallyCell
from app.models.supervision import Extension, InboxMessage, Notice, NoticeCounter, SupervisionStep
from app.models.tips import Tip, TipEvent, TipPhoto, TipRefusal, TipStep, TipSubmission

__all__ = [
    "Assignment",
    "AuditChain",
    "AuditCheckpoint",
    "AuditCheckpointHead",
    "AuditEntry",
    "CheckCampaign",
    "CheckItem",
    "CheckItemPhoto",
    "CheckTask",
    "ControlMeasure",
    "CriteriaDocument",
    "Criterion",
    "CryptoState",
    "Enterprise",
    "Event",
    "Extension",
    "Hazard",
    "HazardCounter",
    "IdempotencyKey",
    "InboxMessage",
    "Industry",
    "LoginAttempt",
    "Notice",
    "NoticeCounter",
    "OutboxMessage",
    "PasswordHistory",
    "Photo",
    "QuarterlyFiling",
    "QuarterlyTally",
    "QuarterlyTallyCell",
    "RankingMonth",
    "RecoveryCode",
    "Region",
    "RevokedSession",
    "RiskPoint",
    "SpotCheckPolicy",
    "SupervisionStep",
    "Sweep",
    "Tip",
    "TipEvent",
    "TipPhoto",
    "TipRefusal",
    "TipStep",
    "TipSubmission",
    "Unit",
    "User",
    "Webhook",
    "WebhookDelivery",
    "unit_industry",
    "unit_region",
]
