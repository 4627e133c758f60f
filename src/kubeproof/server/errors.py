"""Status errors with the code, reason, message and details kube-apiserver gives.

Constructors mirror ``k8s.io/apimachinery/pkg/api/errors``; the messages are byte-identical to theirs.
"""

from __future__ import annotations

from typing import Any

from kubeproof.server.validation.field import FieldError, aggregate


def qualified(resource: str, group: str) -> str:
    """``schema.GroupResource.String()``: ``pods`` or ``deployments.apps``."""
    return f"{resource}.{group}" if group else resource


def quote(name: str) -> str:
    """Go's ``%q`` for the names that appear in messages."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class StatusError(Exception):
    """An API error that the HTTP layer writes as a ``metav1.Status``."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        #: ``metadata.continue`` of the Status (an expired continue token answers with a fresh one).
        self.list_continue = ""

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {"continue": self.list_continue} if self.list_continue else {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def __repr__(self) -> str:
        return f"StatusError({self.code}, {self.reason!r}, {self.message!r})"


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    details.update({k: v for k, v in extra.items() if v})
    return details


def not_found(resource: str, group: str, name: str) -> StatusError:
    return StatusError(
        404, "NotFound", f"{qualified(resource, group)} {quote(name)} not found", _details(name, group, resource)
    )


def already_exists(resource: str, group: str, name: str, terminating: bool = False) -> StatusError:
    message = f"{qualified(resource, group)} {quote(name)} already exists"
    if terminating:
        message = "object is being deleted: " + message
    return StatusError(409, "AlreadyExists", message, _details(name, group, resource))


def generate_name_conflict(resource: str, group: str, name: str) -> StatusError:
    message = (
        f"{qualified(resource, group)} {quote(name)} already exists, "
        "the server was not able to generate a unique name for the object"
    )
    return StatusError(
        409,
        "AlreadyExists",
        message,
        _details(name, group, resource, retryAfterSeconds=1),
        {"Retry-After": "1"},
    )


def conflict(resource: str, group: str, name: str, why: str) -> StatusError:
    message = f"Operation cannot be fulfilled on {qualified(resource, group)} {quote(name)}: {why}"
    return StatusError(409, "Conflict", message, _details(name, group, resource))


OPTIMISTIC_LOCK = "the object has been modified; please apply your changes to the latest version and try again"


def stale_update(resource: str, group: str, name: str) -> StatusError:
    return conflict(resource, group, name, OPTIMISTIC_LOCK)


def invalid(kind: str, group: str, name: str, errors: list[FieldError]) -> StatusError:
    qualified_kind = f"{kind}.{group}" if group else kind
    message = f"{qualified_kind} {quote(name)} is invalid: {aggregate(errors)}"
    details = _details(name, group, kind)
    details["causes"] = [e.cause() for e in errors]
    return StatusError(422, "Invalid", message, details)


def invalid_options(kind: str, errors: list[FieldError]) -> StatusError:
    """Invalid query options, e.g. ``ListOptions.meta.k8s.io "" is invalid: ...``."""
    message = f'{kind}.meta.k8s.io "" is invalid: {aggregate(errors)}'
    return StatusError(
        422, "Invalid", message, {"group": "meta.k8s.io", "kind": kind, "causes": [e.cause() for e in errors]}
    )


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def forbidden(
    resource: str, group: str, name: str, why: str, causes: list[dict[str, str]] | None = None
) -> StatusError:
    if not resource and not group:
        message = f"forbidden: {why}"
    elif not name:
        message = f"{qualified(resource, group)} is forbidden: {why}"
    else:
        message = f"{qualified(resource, group)} {quote(name)} is forbidden: {why}"
    details = _details(name, group, resource)
    if causes:
        details["causes"] = causes
    return StatusError(403, "Forbidden", message, details)


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def method_not_supported(resource: str, group: str, action: str) -> StatusError:
    message = f"{action} is not supported on resources of kind {quote(qualified(resource, group))}"
    return StatusError(405, "MethodNotAllowed", message, _details("", group, resource))


def not_acceptable(accepted: list[str]) -> StatusError:
    message = "only the following media types are accepted: " + ", ".join(accepted)
    return StatusError(406, "NotAcceptable", message)


def unsupported_media_type(accepted: list[str]) -> StatusError:
    message = "the body of the request was in an unknown format - accepted media types include: "
    message += ", ".join(accepted)
    return StatusError(415, "UnsupportedMediaType", message)


def expired(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def too_large_resource_version(requested: int, current: int) -> StatusError:
    return StatusError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {
            "causes": [
                {
                    "reason": "ResourceVersionTooLarge",
                    "message": f"Too large resource version: {requested}, current: {current}",
                }
            ],
            "retryAfterSeconds": 1,
        },
        {"Retry-After": "1"},
    )


def request_entity_too_large(message: str) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", f"Request entity too large: {message}")


def internal(message: str) -> StatusError:
    """``ErrorToAPIStatus`` default branch: an error the apiserver did not classify."""
    return StatusError(500, "", message)


def internal_error(err: Exception | str) -> StatusError:
    """``NewInternalError``: a server bug reported as a Status, never a traceback."""
    text = str(err)
    return StatusError(
        500,
        "InternalError",
        f"Internal error occurred: {text}",
        {"causes": [{"message": text}]},
    )
