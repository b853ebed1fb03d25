"""The database's crypto state against the settings (models/crypto.CryptoState).

The rule. A database's chains are written with one digest at a time and never rewritten: the
links before a profile change keep the digest they were written with (`epochs`), so that
`bihuan audit verify` recomputes each link with its own digest, whatever CRYPTO_PROFILE says
today. Recomputing old links under the new digest is exactly what the chains exist to expose,
and would make every signed checkpoint and every copy kept outside disagree.

So the app (serve, worker) and `bihuan check-config` refuse settings that disagree with the
database — CRYPTO_PROFILE other than the chains' profile, or a personal data key other than
the one its data is encrypted with — while the database holds any chain link or personal
data; `bihuan crypto rekey` moves it (re-encrypts, records the epoch). A database that holds
neither simply adopts the settings (the migration-free switch for a new database).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import exists, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.crypto import PersonalDataError, Profile, personal_key
from app.models import AuditEntry, CryptoState, Event, Tip, TipEvent, User

# Every chain table and the column that orders its links (the id an epoch ends at).
CHAIN_TABLES = {"event": Event.id, "tip_event": TipEvent.id, "audit_entry": AuditEntry.seq}
# Every column of personal data (PersonalText), with its table's key.
PERSONAL_COLUMNS = ((User, User.id, "phone"), (User, User.id, "otp_secret"),
                    (Tip, Tip.id, "phone"))


class CryptoStateProblem(Exception):
    """The settings disagree with what the database was written with."""


@dataclass(frozen=True)
class ChainProfiles:
    """Which profile wrote a chain link: an epoch's, up to its last id, else the current."""

    current: Profile
    epochs: tuple[dict[str, Any], ...] = ()

    def of(self, table: str, link_id: int) -> Profile:
        for epoch in self.epochs:
            if link_id <= int(epoch["last"].get(table, 0)):
                return cast(Profile, epoch["profile"])
        return self.current

    def signed(self) -> dict[str, Any]:
        """What a checkpoint signs of them (so an edited state row is seen)."""
        return {"profile": self.current, "epochs": list(self.epochs)}


def load_state(session: Session) -> CryptoState:
    state = session.get(CryptoState, 1)
    if state is None:  # a database migrated before 0031 keeps its row from the migration
        raise CryptoStateProblem("crypto_state 缺少记录：请运行 `bihuan migrate`")
    return state


def chain_profiles(session: Session) -> ChainProfiles:
    state = load_state(session)
    return ChainProfiles(cast(Profile, state.chain_profile), tuple(state.epochs or ()))


def holds_chains(session: Session) -> bool:
    return any(session.scalar(select(exists().where(column.is_not(None))))
               for column in CHAIN_TABLES.values())


def holds_personal_data(session: Session) -> bool:
    return any(session.scalar(select(func.count()).select_from(model)
                              .where(getattr(model, name).is_not(None))) or 0
               for model, _key, name in PERSONAL_COLUMNS)


def target_key_id(settings: Settings) -> str | None:
    """The key id personal data should be encrypted with under the settings (None: plaintext)."""
    if settings.crypto_profile != "gm":
        return None
    key = personal_key()
    return key.id if key is not None else None


def problems(session: Session, settings: Settings) -> list[str]:
    """Why these settings may not run on this database (empty: they may, perhaps after
    `adopt` records them on a database that holds nothing they would disagree with)."""
    state = load_state(session)
    found = []
    if state.chain_profile != settings.crypto_profile and holds_chains(session):
        found.append(f"数据库的哈希链以 CRYPTO_PROFILE={state.chain_profile} 写成，当前设置为 "
                     f"{settings.crypto_profile}：新旧链环不可混用，请先运行 `bihuan crypto "
                     "rekey`（记录切换点，旧链环仍按原算法校验），或改回原设置")
    wanted = target_key_id(settings)
    if state.personal_key_id != wanted and holds_personal_data(session):
        have = f"以密钥 {state.personal_key_id} 加密" if state.personal_key_id else "为明文"
        want = f"密钥 {wanted} 加密" if wanted else "明文"
        found.append(f"数据库中的个人信息{have}，当前设置要求{want}：请运行 `bihuan crypto "
                     "rekey`（旧密钥用 --from-key-file 给出）")
    return found


def adopt(session: Session, settings: Settings, now: datetime) -> bool:
    """Record the settings on a database that holds nothing written otherwise; raises
    CryptoStateProblem when it does. True when the row changed. The caller commits."""
    found = problems(session, settings)
    if found:
        raise CryptoStateProblem("；".join(found))
    state = load_state(session)
    wanted = (settings.crypto_profile, target_key_id(settings))
    if (state.chain_profile, state.personal_key_id) == wanted:
        return False
    state.chain_profile, state.personal_key_id = wanted
    state.updated_at = now
    session.flush()
    return True


def database_problems(sessions: sessionmaker[Session], settings: Settings) -> list[str]:
    """`problems` of the configured database; none when it cannot be read yet (not migrated:
    `bihuan migrate` comes after `bihuan check-config` in the image's start)."""
    try:
        with sessions() as session:
            return problems(session, settings)
    except (SQLAlchemyError, CryptoStateProblem):
        return []
    except PersonalDataError as error:
        return [str(error)]


def ensure_settings(sessions: sessionmaker[Session], settings: Settings,
                    now: datetime) -> None:
    """Before the app or the worker starts: adopt the settings on a database that holds
    nothing written otherwise, refuse (CryptoStateProblem) when it does, or when gm lacks
    the key personal data must be encrypted with (every write of a phone would fail)."""
    if settings.crypto_profile == "gm" and settings.personal_data_key_file is None:
        raise CryptoStateProblem("CRYPTO_PROFILE=gm 但未设置 PERSONAL_DATA_KEY_FILE：手机号等"
                                 "个人信息须以 SM4 加密存储（`bihuan crypto keygen PATH` 生成"
                                 "密钥文件）")
    with sessions() as session:
        if not inspect(session.connection()).has_table(CryptoState.__tablename__):
            raise CryptoStateProblem("数据库尚未建立或未迁移到当前版本：请先运行 `bihuan migrate`")
    try:
        with sessions() as session, session.begin():
            adopt(session, settings, now)
    except PersonalDataError as error:
        raise CryptoStateProblem(str(error)) from error
