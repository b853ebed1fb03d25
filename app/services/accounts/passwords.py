"""Password rules (等保三级): strength, history, and setting a password.

A password has at least 8 characters from 3 of the 4 classes (lower case, upper case, digits,
other), is not the username, and is not one of the commonly used passwords. A new password
may not repeat any of the user's last `HISTORY` passwords.
"""

import secrets
import string
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Unprocessable
from app.core.security import hash_password, verify_password
from app.models import PasswordHistory, User

MIN_LENGTH = 8
MAX_LENGTH = 128
HISTORY = 5
# The most used passwords that pass the class rule (lists of leaked passwords); lower-case.
COMMON = frozenset({
    "password1!", "passw0rd", "p@ssw0rd", "p@ssword1", "admin123!", "admin@123", "abc@1234",
    "abcd@1234", "qwer@1234", "qwe123!@#", "1qaz@wsx", "1qaz2wsx!", "zaq1@wsx", "aa123456!",
    "a123456!", "abc123!@#", "password@123", "admin@2026", "test@1234", "root@123",
    "welcome1!", "iloveyou1!", "woaini1314!", "huawei@123", "changeme1!",
})


def strength_problem(password: str, username: str) -> str | None:
    """Why this password is refused (Chinese, for the user), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 位"
    classes = (any(c.islower() for c in password), any(c.isupper() for c in password),
               any(c.isdigit() for c in password),
               any(not c.isalnum() for c in password))
    if sum(classes) < 3:
        return "密码须包含小写字母、大写字母、数字、符号中的至少三类"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    if password.lower() in COMMON:
        return "该密码过于常见，请换一个"
    return None


def check_strength(password: str, username: str) -> None:
    """422 with the reason when the password breaks the rules."""
    problem = strength_problem(password, username)
    if problem:
        raise Unprocessable(problem)


def reused(session: Session, user: User, password: str) -> bool:
    """Is this one of the user's current or last HISTORY passwords?"""
    if user.password_hash and verify_password(password, user.password_hash):
        return True
    previous = session.scalars(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.set_at.desc(), PasswordHistory.id.desc()).limit(HISTORY))
    return any(verify_password(password, old) for old in previous)


def set_password(session: Session, user: User, password: str, *, at: datetime,
                 temporary: bool) -> None:
    """Give the user this password (checked against the rules and the history).

    `temporary`: a first or reset password, which the user must change at the next login."""
    check_strength(password, user.username)
    if reused(session, user, password):
        raise Unprocessable(f"新密码不能与最近 {HISTORY} 次使用过的密码相同")
    if user.password_hash:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash,
                                    set_at=user.password_changed_at or user.created_at))
    user.password_hash = hash_password(password)
    user.password_changed_at = at
    user.password_change_required = temporary


def temporary_password() -> str:
    """A random password that meets the rules (16 characters, every class)."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if strength_problem(candidate, "") is None and all(
            any(c in group for c in candidate)
            for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
        ):
            return candidate
