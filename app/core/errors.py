"""Domain errors: each carries the HTTP status the API answers with."""

from typing import Any


class DomainError(Exception):
    status_code = 400
    keeps_transaction = False

    def __init__(
        self,
        detail: Any,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        # Fields the JSON body carries beside "detail" (e.g. a refused import's problem list).
        self.extra = extra or {}


class Unauthorized(DomainError):
    status_code = 401


class LoginFailed(Unauthorized):
    # The failed attempt must be stored for the lockout to count it.
    keeps_transaction = True


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class OutOfScope(NotFound):
    """A 404 for a row that exists but the caller may not see: answered exactly like one
    that does not exist, and recorded in the security audit log as a refusal."""

    def __init__(self, detail: Any, *, object: str) -> None:
        super().__init__(detail)
        self.object = object


class Conflict(DomainError):
    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMedia(DomainError):
    status_code = 415


class Unprocessable(DomainError):
    status_code = 422


class TooManyRequests(DomainError):
    status_code = 429
