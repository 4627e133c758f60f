"""``user.Info``: who a request is, as authentication decides and authorization reads it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

ANONYMOUS = "system:anonymous"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
SYSTEM_MASTERS = "system:masters"
SA_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"


@dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)

    def to_api(self) -> dict[str, object]:
        """``authentication.k8s.io/v1 UserInfo`` (empty fields omitted, as Go's omitempty)."""
        out: dict[str, object] = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


def service_account_username(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def split_service_account(username: str) -> tuple[str, str] | None:
    """``serviceaccount.SplitUsername``: (namespace, name) of a ServiceAccount user, else None."""
    if not username.startswith(SA_PREFIX):
        return None
    parts = username[len(SA_PREFIX):].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """``serviceaccount.MakeGroupNames``."""
    return (SA_GROUP, f"{SA_GROUP}:{namespace}")


def anonymous() -> UserInfo:
    return UserInfo(ANONYMOUS, groups=(ALL_UNAUTHENTICATED,))


#: The user of the API request being served, set by the HTTP layer once it has authenticated the request
#: (Go's request context: each request runs in its own task, with its own copy). None for the server's own
#: writes (controllers, bootstrap), which RBAC checks in storage treat as privileged.
requesting_user: ContextVar[UserInfo | None] = ContextVar("kubeproof_requesting_user", default=None)
