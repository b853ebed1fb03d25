"""What the database's cryptography was written with (services/crypto/state.py).

One row (id 1): the profile its chains are written with now, the profiles they were written
with before (each with the last row of every chain table written under it: `bihuan crypto
rekey` moves a database from one profile to another without rewriting a link), and the key
its personal data is encrypted with. `bihuan audit verify` recomputes each link with the
digest it was written with; the app refuses to start when its settings disagree.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class CryptoState(Base):
    __tablename__ = "crypto_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "default" (SHA-256) or "gm" (SM3): the digest of every link written from now on.
    chain_profile: Mapped[str] = mapped_column(String(8))
    # Earlier profiles, oldest first: [{"profile": "default", "last": {"event": 812,
    # "tip_event": 40, "audit_entry": 5120}}]: links up to those ids use that profile's digest.
    epochs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The id of the key personal data is SM4-encrypted with (app/core/crypto.key_id); None:
    # stored in plaintext (the default profile).
    personal_key_id: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
