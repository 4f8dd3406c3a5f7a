"""Decisions against a request, as stable codes the transport turns into answers."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a stable code (`booth.queue_full`) and a readable message."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(ServiceError):
    """Missing, or not yours: the two must look the same so ids cannot be probed."""

    def __init__(self) -> None:
        super().__init__("not_found", "not found")


class Refused(ServiceError):
    """A decision against a form: the field it concerns and a message to show beside it."""

    def __init__(self, field: str, message: str, code: str = "request.refused") -> None:
        super().__init__(code, message, field=field)
        self.field = field


class FormRefused(ServiceError):
    """Several fields refused at once: messages by field (a scheduling rule, say)."""

    def __init__(self, code: str, errors: dict[str, str]) -> None:
        super().__init__(code, "; ".join(errors.values()), fields=errors)
        self.errors = errors


class ClientIdReused(ServiceError):
    """client_id is unique per author: one already used for another room's message."""

    def __init__(self) -> None:
        super().__init__(
            "request.client_id_reused", "this client_id was already used for another message"
        )
