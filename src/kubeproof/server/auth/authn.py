"""Authentication, impersonation and authorization of one request: kube-apiserver's filter chain
``WithAuthentication`` -> ``WithImpersonation`` -> ``WithAuthorization`` in one place.

Authenticators, in kube-apiserver's order: x509 client certificates signed by the cluster CA (CN is the
user, O the groups), then bearer tokens (the static admin token, ServiceAccount JWTs from TokenRequest
or from legacy token Secrets). A bearer token that fails is a 401 even when anonymous access is on
(``union.NewFailOnError``); no credentials at all means ``system:anonymous`` when allowed, else 401.
"""

from __future__ import annotations

import base64
import datetime
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from kubeproof.server import errors
from kubeproof.server.auth import rbac
from kubeproof.server.auth.requestinfo import Attributes, request_attributes
from kubeproof.server.auth.tokens import issuer_for
from kubeproof.server.auth.user import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    SYSTEM_MASTERS,
    UserInfo,
    anonymous,
    service_account_groups,
    service_account_username,
    split_service_account,
)
from kubeproof.server.registry.generic import Registry

#: The user of the kubeconfig's static token (kind names it ``kubernetes-admin``).
ADMIN_USER = "kubeproof-admin"
ADMIN_GROUPS = (SYSTEM_MASTERS, ALL_AUTHENTICATED)
ADMIN = UserInfo(ADMIN_USER, groups=ADMIN_GROUPS)
SA_TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"


class PlainError(Exception):
    """A plain-text answer (``responsewriters.InternalError``), not a Status."""

    def __init__(self, code: int, body: str) -> None:
        super().__init__(body)
        self.code = code
        self.body = body


def _with_authenticated(groups: Sequence[str]) -> tuple[str, ...]:
    """``group.AuthenticatedGroupAdder``: every authenticated user is in ``system:authenticated``."""
    out = tuple(groups)
    return out if ALL_AUTHENTICATED in out or ALL_UNAUTHENTICATED in out else (*out, ALL_AUTHENTICATED)


def _deleted(obj: dict[str, Any], now: float) -> bool:
    """Whether the object's deletion time has passed: a pod in its grace period keeps its tokens, as
    the ServiceAccount token validator lets them (``DeletionTimestamp`` is when the object goes)."""
    stamp = (obj.get("metadata") or {}).get("deletionTimestamp")
    if not stamp:
        return False
    try:
        at = datetime.datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return True
    return at.timestamp() <= now


@dataclass
class RequestAuth:
    """Who a request is, once authenticated, impersonated and authorized."""

    user: UserInfo


class AuthChain:
    def __init__(self, registry: Registry, token: str | None) -> None:
        self.registry = registry
        self.store = registry.store
        self.token = token
        self.issuer = issuer_for(registry)
        self.authorizer = rbac.Authorizer(registry.store)

    # -- authentication ----------------------------------------------------------------------------

    def user_from_certificate(self, cert: dict[str, Any] | None) -> UserInfo | None:
        """``x509.CommonNameUserConversion`` of a peer certificate the TLS layer already verified."""
        if not cert:
            return None
        name, groups = "", []
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    name = value
                elif key == "organizationName":
                    groups.append(value)
        if not name:
            return None
        return UserInfo(name, groups=_with_authenticated(groups))

    def user_from_token(self, token: str) -> UserInfo | None:
        if self.token is not None and hmac.compare_digest(token.encode(), self.token.encode()):
            return ADMIN
        claims = self.issuer.validate(token, self.registry.clock.now())
        if claims is None or not claims.namespace or not claims.name:
            return None
        sa = self.store.get("serviceaccounts", claims.namespace, claims.name)
        # the account must still exist (and be the same one) and not be going away
        now = self.registry.clock.now()
        if sa is None or _deleted(sa, now):
            return None
        if claims.uid and (sa.get("metadata") or {}).get("uid") != claims.uid:
            return None
        extra: dict[str, list[str]] = {}
        if claims.legacy:
            secret = self.store.get("secrets", claims.namespace, claims.secret_name)
            if secret is None or _deleted(secret, now):
                return None
            stored = str((secret.get("data") or {}).get("token") or "")
            if base64.b64decode(stored or "").decode(errors="replace") != token:
                return None  # the Secret was given another token
        elif claims.pod_name:
            pod = self.store.get("pods", claims.namespace, claims.pod_name)
            if pod is None or (pod.get("metadata") or {}).get("uid") != claims.pod_uid or _deleted(pod, now):
                return None
            extra = {"authentication.kubernetes.io/pod-name": [claims.pod_name],
                     "authentication.kubernetes.io/pod-uid": [claims.pod_uid]}
        uid = (sa.get("metadata") or {}).get("uid", "")
        return UserInfo(service_account_username(claims.namespace, claims.name), uid=uid,
                        groups=_with_authenticated(service_account_groups(claims.namespace)), extra=extra)

    def authenticate(self, headers: dict[str, str], peer_cert: dict[str, Any] | None,
                     allow_anonymous: bool) -> UserInfo:
        user = self.user_from_certificate(peer_cert)
        if user is not None:
            return user
        auth = headers.get("authorization", "")
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            user = self.user_from_token(token.strip())
            if user is None and self.token is None:
                user = ADMIN
            if user is None:
                raise errors.unauthorized()
            return user
        if allow_anonymous:
            return anonymous()
        raise errors.unauthorized()

    # -- impersonation -----------------------------------------------------------------------------

    def impersonate(self, requestor: UserInfo, raw_headers: Sequence[tuple[bytes, bytes]]) -> UserInfo:
        """``WithImpersonation``: each impersonated value needs the ``impersonate`` verb on it."""
        user_name: str | None = None
        groups: list[str] = []
        uid: str | None = None
        extra: dict[str, list[str]] = {}
        for raw_key, raw_value in raw_headers:
            key, value = raw_key.decode("latin-1").lower(), raw_value.decode("latin-1")
            if key == "impersonate-user":
                user_name = value
            elif key == "impersonate-group":
                groups.append(value)
            elif key == "impersonate-uid":
                uid = value
            elif key.startswith("impersonate-extra-"):
                extra.setdefault(unquote(key[len("impersonate-extra-"):]), []).append(value)
        if user_name is None and not groups and uid is None and not extra:
            return requestor
        if user_name is None:
            requests = [f"{{Group  {g}}}" for g in groups]
            raise PlainError(500, f"requested [{' '.join(requests)}] without impersonating a user")

        def check(resource: str, name: str, group: str = "", namespace: str = "", subresource: str = "") -> None:
            attrs = Attributes(user=requestor, verb="impersonate", resource_request=True, api_group=group,
                               api_version="v1", namespace=namespace, resource=resource, subresource=subresource,
                               name=name)
            decision = self.authorizer.authorize(attrs)
            if not decision.allowed:
                raise rbac.forbidden(attrs, decision.reason)

        sa = split_service_account(user_name)
        if sa is not None:
            check("serviceaccounts", sa[1], namespace=sa[0])
        else:
            check("users", user_name)
        for group in groups:
            check("groups", group)
        if sa is not None and not groups:
            # a ServiceAccount's groups follow from its name
            groups = list(service_account_groups(sa[0]))
        for key, values in extra.items():
            for value in values:
                check("userextras", value, group="authentication.k8s.io", subresource=key)
        if uid is not None:
            check("uids", uid, group="authentication.k8s.io")
        if user_name != ANONYMOUS:
            if ALL_AUTHENTICATED not in groups:
                groups.append(ALL_AUTHENTICATED)
        elif ALL_UNAUTHENTICATED not in groups:
            groups.append(ALL_UNAUTHENTICATED)
        return UserInfo(user_name, uid=uid or "", groups=tuple(groups), extra=extra)

    # -- the whole filter chain --------------------------------------------------------------------

    def check(self, method: str, path: str, query: Mapping[str, list[str]], headers: dict[str, str],
              raw_headers: Sequence[tuple[bytes, bytes]], peer_cert: dict[str, Any] | None,
              allow_anonymous: bool) -> RequestAuth:
        user = self.authenticate(headers, peer_cert, allow_anonymous)
        if any(key.startswith("impersonate-") for key in headers):
            user = self.impersonate(user, raw_headers)
        # An APIServer made without a token (a bare registry in unit tests) runs AlwaysAllow, and the
        # privileged group needs no request attributes (most requests of a test run are the admin's).
        if self.token is None or self.authorizer.privileged(user):
            return RequestAuth(user)
        attrs = request_attributes(user, method, path, query)
        decision = self.authorizer.authorize(attrs)
        if not decision.allowed:
            raise rbac.forbidden(attrs, decision.reason)
        return RequestAuth(user)
