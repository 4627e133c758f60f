"""ServiceAccount tokens: JWTs signed with a per-cluster key, with the claims kube-apiserver issues.

PyJWT (with ``cryptography`` for the EC key) signs and verifies: it is the maintained JWT library
for Python, checks ``exp``/``nbf``/``iss``/``aud`` itself and refuses ``alg: none``. Tokens are ES256
(kube-apiserver signs RS256 or ES256 depending on its key; P-256 keys take a millisecond to make).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

#: kube-apiserver's default ``--service-account-issuer`` (kind, kubeadm) and thus its API audience.
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
ALGORITHM = "ES256"


@functools.cache
def _jwt() -> Any:
    """PyJWT, imported when the first token is issued or checked (~50 ms of every cold start otherwise)."""
    import jwt

    return jwt


@dataclass(frozen=True)
class Claims:
    namespace: str
    name: str
    uid: str
    pod_name: str = ""
    pod_uid: str = ""
    secret_name: str = ""
    legacy: bool = False


class TokenIssuer:
    """Issues and validates ServiceAccount JWTs for one cluster."""

    def __init__(self, issuer: str = DEFAULT_ISSUER, audiences: tuple[str, ...] | None = None) -> None:
        self.issuer = issuer
        self.api_audiences = audiences or (issuer,)
        self._key = ec.generate_private_key(ec.SECP256R1())
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # kube-apiserver's key id: the URL-safe SHA-256 of the DER public key
        self.key_id = base64.urlsafe_b64encode(hashlib.sha256(public_der).digest()).decode().rstrip("=")

    def issue(self, now: float, expiration_seconds: int, audiences: list[str], namespace: str, name: str,
              uid: str, pod: dict[str, str] | None = None, node: dict[str, str] | None = None) -> tuple[str, int]:
        """A bound token (TokenRequest): returns the token and its expiry (seconds since the epoch)."""
        iat = int(now)
        exp = iat + expiration_seconds
        private: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
        if pod:
            private["pod"] = pod
        if node:
            private["node"] = node
        claims = {
            "aud": audiences,
            "exp": exp,
            "iat": iat,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": private,
            "nbf": iat,
            "sub": f"system:serviceaccount:{namespace}:{name}",
        }
        return _jwt().encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id}), exp

    def issue_legacy(self, namespace: str, name: str, uid: str, secret_name: str) -> str:
        """A never-expiring token for a ``kubernetes.io/service-account-token`` Secret (legacy claims)."""
        claims = {
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": secret_name,
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": uid,
            "sub": f"system:serviceaccount:{namespace}:{name}",
        }
        return _jwt().encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})  # type: ignore[no-any-return]

    def validate(self, token: str, now: float) -> Claims | None:
        """The claims of a token this cluster signed and that is valid at ``now``; None otherwise."""
        jwt = _jwt()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if header.get("alg") != ALGORITHM:
            return None
        try:
            if unverified.get("iss") == "kubernetes/serviceaccount":
                claims = jwt.decode(token, self._key.public_key(), algorithms=[ALGORITHM],
                                    issuer="kubernetes/serviceaccount", options={"verify_aud": False})
                return Claims(
                    namespace=str(claims.get("kubernetes.io/serviceaccount/namespace", "")),
                    name=str(claims.get("kubernetes.io/serviceaccount/service-account.name", "")),
                    uid=str(claims.get("kubernetes.io/serviceaccount/service-account.uid", "")),
                    secret_name=str(claims.get("kubernetes.io/serviceaccount/secret.name", "")),
                    legacy=True,
                )
            # expiry is checked against the cluster's clock (a ManualClock may differ from the wall clock)
            claims = jwt.decode(token, self._key.public_key(), algorithms=[ALGORITHM], issuer=self.issuer,
                                audience=list(self.api_audiences),
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "require": ["exp", "iat", "sub"]})
        except jwt.PyJWTError:
            return None
        if not isinstance(claims.get("exp"), int) or now >= claims["exp"] + 60 or now < int(claims.get("nbf", 0)) - 60:
            return None  # kube-apiserver allows 60 s of clock skew (jwt.DefaultLeeway)
        private = claims.get("kubernetes.io")
        if not isinstance(private, dict):
            return None
        sa = private.get("serviceaccount") or {}
        pod = private.get("pod") or {}
        return Claims(
            namespace=str(private.get("namespace", "")),
            name=str(sa.get("name", "")),
            uid=str(sa.get("uid", "")),
            pod_name=str(pod.get("name", "")),
            pod_uid=str(pod.get("uid", "")),
        )


_issuers: weakref.WeakKeyDictionary[Any, TokenIssuer] = weakref.WeakKeyDictionary()


def issuer_for(registry: Any) -> TokenIssuer:
    """The one signing key of a cluster (its registry), shared by the authenticator, TokenRequest and the
    token Secret controller."""
    issuer = _issuers.get(registry)
    if issuer is None:
        issuer = _issuers[registry] = TokenIssuer()
    return issuer
