"""The second factor (docs/accounts.md): time-based one-time passwords and recovery codes.

A code is derived from the account's secret and the current 30-second time step by ONE
function, `otp_at`: RFC 6238 TOTP (HMAC-SHA1, 6 digits), or under CRYPTO_PROFILE=gm the 国密
dynamic password (GM/T 0021, SM3); everything else here is the same for both.

A code is accepted for the current step or one step either side (a phone's clock drifts), and
only for a step later than the last one accepted (`User.otp_last_step`): a code, once used,
is refused, and so is any older one.

Recovery codes stand in for the phone once each. They are 80 random bits shown once, at
enrolment, and stored as their SHA-256: with that much entropy no dictionary or brute force
reaches them, so a slow hash (argon2, ~0.2 s each) would only make every recovery login cost
seconds of CPU (one verification per stored code) without making a stolen table any harder.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.core.crypto import current_profile
from app.core.errors import Conflict, Unprocessable
from app.models import RecoveryCode, User

DIGITS = 6
PERIOD_SECONDS = 30
# Steps accepted either side of the current one: ±30 s of clock drift.
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation for HMAC-SHA1
ISSUER = "闭环"
RECOVERY_CODES = 10
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 4, 4  # 16 base32 characters: 80 bits
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols, no l/1/o/0
RECOVERY_HASH_PREFIX = "sha256:"
# GM/T 0021: ID is at least 128 bits, zero-padded when T ‖ C ‖ Q is shorter.
_GM_ID_BYTES = 16


def otp_at(secret: bytes, step: int) -> str:
    """The 6-digit code for time step `step` (unix time // 30) under the crypto profile."""
    if current_profile() == "gm":
        return sm3_otp(secret, step)
    return totp_sha1(secret, step)


def totp_sha1(secret: bytes, step: int) -> str:
    """RFC 6238 TOTP: HOTP (RFC 4226) of the 8-byte step with HMAC-SHA1, dynamically
    truncated (`cryptography`'s hazmat.primitives.twofactor.hotp). RFC 6238 names HMAC-SHA1
    and authenticator apps expect it (HMAC keeps SHA-1 sound here)."""
    return HOTP(secret, DIGITS, SHA1(), enforce_key_length=False).generate(step).decode()  # noqa: S303


def sm3_otp(secret: bytes, step: int, *, counter: int | None = None,
            challenge: bytes = b"") -> str:
    """The 国密 dynamic password of GM/T 0021-2012 with SM3: the time factor T is the step as
    8 bytes big-endian; ID = T ‖ C ‖ Q (event factor C and challenge Q absent in a time-based
    login), zero-padded to the 128 bits the standard asks at least; S = SM3(K ‖ ID); the
    truncation OD is the sum of S's eight 32-bit big-endian words mod 2^32; P = OD mod 10^6."""
    factor = step.to_bytes(8, "big")
    if counter is not None:
        factor += counter.to_bytes(4, "big")
    factor = (factor + challenge).ljust(_GM_ID_BYTES, b"\0")
    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(secret + factor)
    digest = sm3.finalize()
    od = sum(int.from_bytes(digest[i:i + 4], "big") for i in range(0, 32, 4)) % 2**32
    return f"{od % 10**DIGITS:0{DIGITS}d}"


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // PERIOD_SECONDS


def encode_secret(secret: bytes) -> str:
    """The secret as authenticator apps take it: base32 without padding."""
    return base64.b32encode(secret).decode().rstrip("=")


def decode_secret(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


# The stored form of a secret: base32 (under gm the column itself is SM4-encrypted:
# models/accounts.py, PersonalText).
def _stored_secret(user: User) -> bytes | None:
    return decode_secret(user.otp_secret) if user.otp_secret else None


def _store_secret(user: User, secret: bytes) -> None:
    user.otp_secret = encode_secret(secret)


def is_code_shaped(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: bytes, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step this code belongs to, if it is valid now and newer than `last_step`."""
    if not is_code_shaped(code):
        return None
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(otp_at(secret, step), code):
            return step
    return None


def accept_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Is this a valid, not yet used code of the user's secret? Marks its step used."""
    secret = _stored_secret(user)
    step = matching_step(secret, code, now, user.otp_last_step) if secret else None
    if step is None:
        return False
    # Conditional, so that two requests racing with one code cannot both be accepted: the
    # second waits for the first's row lock and then matches no row.
    taken = session.execute(
        update(User).where(User.id == user.id,
                           or_(User.otp_last_step.is_(None), User.otp_last_step < step))
        .values(otp_last_step=step).execution_options(synchronize_session=False))
    if not getattr(taken, "rowcount", 0):
        return False
    set_committed_value(user, "otp_last_step", step)
    return True


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


def otpauth_uri(username: str, secret: str) -> str:
    """The key URI authenticator apps read from the QR code (Google Authenticator format)."""
    label = quote(f"{ISSUER}:{username}", safe="")
    query = urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1",
                       "digits": DIGITS, "period": PERIOD_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str) -> str:
    """The key URI as an inline SVG QR code (no image request, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, omitsize=True,
                                                 title="双因素认证密钥二维码")


def start_enrolment(user: User) -> Enrolment:
    """A new secret for the user to scan; the second factor is enabled once a code from it
    is confirmed. A second factor already enabled is changed only after a security admin's
    reset (409), or whoever holds a session could replace the owner's phone."""
    if user.otp_enabled:
        raise Conflict("已启用双因素认证；如需更换手机，请联系安全管理员重置")
    secret = secrets.token_bytes(SECRET_BYTES)
    _store_secret(user, secret)
    user.otp_last_step = None
    text = encode_secret(secret)
    return Enrolment(secret=text, otpauth_uri=otpauth_uri(user.username, text))


def pending_enrolment(user: User) -> Enrolment | None:
    """The secret started but not yet confirmed, to show again (the enrolment page)."""
    secret = None if user.otp_enabled else _stored_secret(user)
    if secret is None:
        return None
    text = encode_secret(secret)
    return Enrolment(secret=text, otpauth_uri=otpauth_uri(user.username, text))


def confirm_enrolment(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """Enable the second factor once the user shows a code of the new secret; returns the
    recovery codes (shown this once, stored hashed)."""
    if user.otp_enabled:
        raise Conflict("已启用双因素认证")
    if not user.otp_secret:
        raise Conflict("请先开始绑定（获取密钥或二维码）")
    if not accept_code(session, user, code.strip(), now):
        raise Unprocessable([{"loc": ["body", "otp"], "msg": "动态口令不正确或已过期，"
                              "请输入验证器当前显示的 6 位数字", "type": "otp_invalid"}])
    user.otp_enabled = True
    return new_recovery_codes(session, user)


def reset(session: Session, user: User) -> None:
    """Forget the user's second factor and recovery codes (a security admin's reset)."""
    user.otp_secret = None
    user.otp_enabled = False
    user.otp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _recovery_hash(code: str) -> str:
    return RECOVERY_HASH_PREFIX + hashlib.sha256(code.encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    """What was typed, as stored: lower case, without spaces and dashes."""
    return "".join(c for c in code.lower() if c not in " -")


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes by fresh ones; only their hashes are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET)
                      for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH))
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
        codes.append("-".join(raw[i:i + RECOVERY_GROUP_LENGTH]
                              for i in range(0, len(raw), RECOVERY_GROUP_LENGTH)))
    return codes


def use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Spend one unused recovery code; False when it is not one of the user's or was used."""
    raw = normalise_recovery_code(code)
    if len(raw) != RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH:
        return False
    # One conditional UPDATE: two logins racing with the same code cannot both spend it.
    spent = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(raw),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return bool(getattr(spent, "rowcount", 0))


def recovery_codes_left(session: Session, user: User) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())
