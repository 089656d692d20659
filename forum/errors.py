"""Errors services raise; views turn them into a form message or a 4xx JSON answer."""


class ServiceError(Exception):
    """Base: a refusal a person should read. `errors` is a list of messages."""

    status = 422

    def __init__(self, *errors, field_errors=None, extras=None):
        self.field_errors = dict(field_errors or {})
        self.errors = list(errors) or [m for ms in self.field_errors.values() for m in ms]
        self.extras = extras or {}
        super().__init__("; ".join(self.errors))


class ValidationFailed(ServiceError):
    status = 422


class PermissionDenied(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """The thing is not in a state that allows this (the message names the state)."""

    status = 409


def require(verdict):
    if not verdict:
        raise PermissionDenied(verdict.reason)
