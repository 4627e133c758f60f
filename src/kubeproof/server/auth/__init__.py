"""Authentication, authorization (RBAC) and the review APIs of the embedded API server."""

from kubeproof.server.auth.authn import ADMIN_GROUPS, ADMIN_USER, AuthChain, PlainError, RequestAuth
from kubeproof.server.auth.bootstrap import ensure_bootstrap_policy
from kubeproof.server.auth.reviews import Reviews, install
from kubeproof.server.auth.user import UserInfo

__all__ = ["ADMIN_GROUPS", "ADMIN_USER", "AuthChain", "PlainError", "RequestAuth", "Reviews", "UserInfo",
           "ensure_bootstrap_policy", "install"]
