"""Application exceptions. Services and DAOs raise these; the web layer maps them to HTTP."""
from __future__ import annotations


class AppError(Exception):
    """Base class; ``status`` is the HTTP status the web layer answers with."""

    status = 400

    def __init__(self, message: str = "", *, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})


class ValidationFailed(AppError):
    """Input breaks a rule; ``errors`` maps field names to messages."""

    status = 422


class NotFound(AppError):
    """The object does not exist or is outside the actor's scope."""

    status = 404


class PermissionDenied(AppError):
    status = 403


class AuthenticationFailed(AppError):
    status = 401


class TooManyAttempts(AppError):
    """Throttled (e.g. an account temporarily locked after repeated failures)."""

    status = 429

    def __init__(self, message: str = "", *, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(AppError):
    """A unique key already holds this value (duplicate e-mail, plate, invoice number)."""

    status = 409

    def __init__(self, message: str = "", *, field: str | None = None, constraint: str | None = None):
        super().__init__(message, field=field)
        self.constraint = constraint


class IntegrityViolation(AppError):
    """A foreign key, NOT NULL, CHECK or length rule was broken at the database."""

    status = 409


class DatabaseUnavailable(AppError):
    status = 503


class PayloadTooLarge(AppError):
    """An uploaded file is over its size limit."""

    status = 413
