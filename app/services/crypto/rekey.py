"""`bihuan crypto rekey`: move a database to the configured profile and key.

Personal data (every PersonalText column) is read in keyset batches, decrypted with whichever
key it names (the configured one or those given with --from-key-file), and written back in
the target form (SM4-GCM under the configured key in gm, plaintext in the default profile),
each batch in its own transaction; a tip's phone gets its blind index anew. A value already
in the target form is left alone, so a rerun after a failure carries on where it stopped.

Last, in one transaction: when the chains' profile changes, the current one becomes an epoch
ending at every chain table's last link (those links keep verifying with their digest, the
next ones are written with the new one), the state records the new key, and the audit log
records the change. Run it with the app and the worker stopped (docs/integrity.md).
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Column, String, func, select, table, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.crypto import (
    PersonalKey,
    Profile,
    blind_index,
    decrypt_with,
    encrypt_with,
    is_encrypted,
    personal_key,
    stored_key_id,
)
from app.core.db import transaction
from app.services.audit.log import AuditAction, Who, record
from app.services.crypto.state import CHAIN_TABLES, PERSONAL_COLUMNS, load_state

BATCH = 500


@dataclass
class RekeyReport:
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    chains_from: str | None = None
    chains_to: str | None = None


def rekey(sessions: sessionmaker[Session], settings: Settings, *, old_keys: list[PersonalKey],
          now: datetime, batch: int = BATCH) -> RekeyReport:
    """Re-encrypt every personal value for `settings` and record the new profile. Raises
    PersonalDataError (naming the key) for a value none of the keys opens."""
    profile: Profile = settings.crypto_profile
    target = personal_key() if profile == "gm" else None
    if profile == "gm" and target is None:
        from app.core.crypto import PersonalDataError

        raise PersonalDataError("CRYPTO_PROFILE=gm 需要 PERSONAL_DATA_KEY_FILE")
    keys = [*old_keys, *([target] if target is not None else [])]
    report = RekeyReport()
    for model, _key, name in PERSONAL_COLUMNS:
        label = f"{model.__tablename__}.{name}"
        report.changed[label], report.unchanged[label] = _column(
            sessions, model.__tablename__, name, keys, target, profile, batch)
    with sessions() as session, transaction(session) as tx:
        state = load_state(tx)
        before = {"chain_profile": state.chain_profile, "personal_key_id": state.personal_key_id}
        if state.chain_profile != profile:
            last = {name: tx.scalar(select(func.max(column))) or 0
                    for name, column in CHAIN_TABLES.items()}
            state.epochs = [*(state.epochs or []), {"profile": state.chain_profile,
                                                    "last": last}]
            report.chains_from, report.chains_to = state.chain_profile, profile
            state.chain_profile = profile
        state.personal_key_id = target.id if target is not None else None
        state.updated_at = now
        tx.flush()
        after = {"chain_profile": state.chain_profile, "personal_key_id": state.personal_key_id}
        if before != after:
            record(tx, who=Who.system(), action=AuditAction.setting_change, at=now,
                   object="crypto_profile", detail={"before": before, "after": after})
    return report


def _column(sessions: sessionmaker[Session], table_name: str, name: str,
            keys: list[PersonalKey], target: PersonalKey | None, profile: Profile,
            batch: int) -> tuple[int, int]:
    # Raw columns: the stored form, not PersonalText's plaintext.
    raw = table(table_name, Column("id"), Column(name, String),
                *([Column("phone_index", String)] if table_name == "tip" else []))
    value = raw.c[name]
    changed = unchanged = after = 0
    while True:
        with sessions() as session, transaction(session) as tx:
            rows = tx.execute(select(raw.c.id, value).where(raw.c.id > after, value.is_not(None))
                              .order_by(raw.c.id).limit(batch)).all()
            for row_id, stored in rows:
                if _in_target_form(stored, target):
                    unchanged += 1
                    continue
                plain = decrypt_with(keys, stored)
                values = {name: encrypt_with(target, plain) if target is not None else plain}
                if table_name == "tip":
                    values["phone_index"] = blind_index(plain, profile, target)
                tx.execute(update(raw).where(raw.c.id == row_id).values(**values))
                changed += 1
        if len(rows) < batch:
            return changed, unchanged
        after = rows[-1][0]


def _in_target_form(stored: str, target: PersonalKey | None) -> bool:
    if target is None:
        return not is_encrypted(stored)
    return stored_key_id(stored) == target.id
