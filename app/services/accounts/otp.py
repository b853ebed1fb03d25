"""The one-time code of the second factor: `otp_at(secret, step)`, by the crypto profile.

Everything else of two-factor login (enrolment, the 30-second steps, the window accepted,
replay) calls this one function, so the profile decides the derivation alone:

- default: TOTP, RFC 6238 over HOTP (RFC 4226) with HMAC-SHA1, 6 digits: the 8-byte
  big-endian step is MAC'd under the secret and dynamically truncated (`cryptography`'s
  hazmat.primitives.twofactor.hotp).
- gm: the 国密 dynamic password of GM/T 0021-2012 with SM3: the time factor T is the step as
  8 bytes big-endian; ID = T ‖ C ‖ Q with neither event factor C nor challenge Q, padded with
  zero bytes to the 128 bits the standard asks at least; S = SM3(K ‖ ID); the truncation OD is
  the sum of S's eight 32-bit big-endian words mod 2^32; the code P = OD mod 10^6, 6 digits.
"""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor.hotp import HOTP

from app.core.crypto import current_profile

DIGITS = 6
STEP_SECONDS = 30
# GM/T 0021: ID is at least 128 bits, zero-padded when T ‖ C ‖ Q is shorter.
_ID_BYTES = 16


def otp_at(secret: bytes, step: int) -> str:
    """The 6-digit code for time step `step` (unix time // 30) under the crypto profile."""
    if current_profile() == "gm":
        return sm3_otp(secret, step)
    return totp_sha1(secret, step)


def totp_sha1(secret: bytes, step: int) -> str:
    """RFC 6238 TOTP with HMAC-SHA1 (the default profile)."""
    return HOTP(secret, DIGITS, hashes.SHA1(),  # noqa: S303 (RFC 6238's own)
                enforce_key_length=False).generate(step).decode()


def sm3_otp(secret: bytes, step: int, *, counter: int | None = None,
            challenge: bytes = b"") -> str:
    """GM/T 0021 SM3 dynamic password for time factor `step` (event factor and challenge
    optional, absent in a time-based login)."""
    factor = step.to_bytes(8, "big")
    if counter is not None:
        factor += counter.to_bytes(4, "big")
    factor += challenge
    factor = factor.ljust(_ID_BYTES, b"\0")
    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(secret + factor)
    digest = sm3.finalize()
    od = sum(int.from_bytes(digest[i:i + 4], "big") for i in range(0, 32, 4)) % 2**32
    return f"{od % 10**DIGITS:0{DIGITS}d}"
