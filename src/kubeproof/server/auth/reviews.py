"""Create-only resources answered from authentication and authorization state, never stored:
SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview
(``authorization.k8s.io/v1``), SelfSubjectReview and TokenReview (``authentication.k8s.io/v1``), and
the ServiceAccount ``token`` subresource (TokenRequest), as ``pkg/registry/authorization`` and
``pkg/registry/core/serviceaccount/storage/token.go`` answer them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeproof.server import errors
from kubeproof.server.auth import rbac
from kubeproof.server.auth.admission import service_account_admission
from kubeproof.server.auth.authn import AuthChain
from kubeproof.server.auth.escalation import EscalationGuard
from kubeproof.server.auth.requestinfo import Attributes
from kubeproof.server.auth.user import UserInfo
from kubeproof.server.registry.base import ResourceType, Strategy, Subresource
from kubeproof.server.registry.generic import Registry, now_rfc3339
from kubeproof.server.validation import field

AUTHZ = "authorization.k8s.io"
AUTHN = "authentication.k8s.io"
#: ``MinTokenAgeSec`` / ``MaxTokenAgeSec`` of ``authentication/validation``.
MIN_TOKEN_SECONDS = 10 * 60
MAX_TOKEN_SECONDS = 1 << 32
DEFAULT_TOKEN_SECONDS = 3600

Obj = dict[str, Any]
#: (user, namespace from the URL, name from the URL, body) -> (HTTP code, answer)
Handler = Callable[[UserInfo, str, str, Obj], tuple[int, Obj]]


def review_resources() -> list[ResourceType]:
    def rt(group: str, kind: str, plural: str, namespaced: bool) -> ResourceType:
        return ResourceType(group=group, version="v1", kind=kind, plural=plural, singular=kind.lower(),
                            namespaced=namespaced, strategy=Strategy(), verbs=["create"])

    return [
        rt(AUTHN, "SelfSubjectReview", "selfsubjectreviews", False),
        rt(AUTHN, "TokenReview", "tokenreviews", False),
        rt(AUTHZ, "LocalSubjectAccessReview", "localsubjectaccessreviews", True),
        rt(AUTHZ, "SelfSubjectAccessReview", "selfsubjectaccessreviews", False),
        rt(AUTHZ, "SelfSubjectRulesReview", "selfsubjectrulesreviews", False),
        rt(AUTHZ, "SubjectAccessReview", "subjectaccessreviews", False),
    ]


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _answer(kind: str, group: str, body: Obj, **parts: Any) -> Obj:
    meta = dict(_dict(body.get("metadata")))
    meta.setdefault("creationTimestamp", None)
    return {"kind": kind, "apiVersion": f"{group}/v1", "metadata": meta, **parts}


class Reviews:
    """The handlers, keyed by (resource key, subresource) for ``APIServer.create_handlers``."""

    def __init__(self, registry: Registry, chain: AuthChain) -> None:
        self.registry = registry
        self.chain = chain

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            (f"selfsubjectaccessreviews.{AUTHZ}", ""): self.self_subject_access_review,
            (f"subjectaccessreviews.{AUTHZ}", ""): self.subject_access_review,
            (f"localsubjectaccessreviews.{AUTHZ}", ""): self.local_subject_access_review,
            (f"selfsubjectrulesreviews.{AUTHZ}", ""): self.self_subject_rules_review,
            (f"selfsubjectreviews.{AUTHN}", ""): self.self_subject_review,
            (f"tokenreviews.{AUTHN}", ""): self.token_review,
            ("serviceaccounts", "token"): self.token_request,
        }

    # -- access reviews ------------------------------------------------------------------------------

    def _spec_errors(self, spec: Obj) -> list[field.FieldError]:
        res, non = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if res is not None and non is not None:
            return [field.invalid("spec.nonResourceAttributes", field.GoRaw(_go_struct(non)),
                                  "cannot be specified in combination with resourceAttributes")]
        if res is None and non is None:
            return [field.required("spec.resourceAttributes",
                                   "exactly one of nonResourceAttributes or resourceAttributes must be specified")]
        return []

    def _evaluate(self, user: UserInfo, spec: Obj) -> Obj:
        res = spec.get("resourceAttributes")
        if isinstance(res, dict):
            attrs = Attributes(user=user, verb=str(res.get("verb") or ""), resource_request=True,
                               api_group=str(res.get("group") or ""), api_version=str(res.get("version") or ""),
                               namespace=str(res.get("namespace") or ""), resource=str(res.get("resource") or ""),
                               subresource=str(res.get("subresource") or ""), name=str(res.get("name") or ""))
        else:
            non = _dict(spec.get("nonResourceAttributes"))
            attrs = Attributes(user=user, verb=str(non.get("verb") or ""), resource_request=False,
                               path=str(non.get("path") or ""))
        decision = self.chain.authorizer.authorize(attrs)
        status: Obj = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return status

    def self_subject_access_review(self, user: UserInfo, namespace: str, name: str, body: Obj) -> tuple[int, Obj]:
        spec = _dict(body.get("spec"))
        errs = self._spec_errors(spec)
        if errs:
            raise errors.invalid("SelfSubjectAccessReview", AUTHZ, "", errs)
        return 201, _answer("SelfSubjectAccessReview", AUTHZ, body, spec=spec, status=self._evaluate(user, spec))

    def _subject(self, spec: Obj) -> UserInfo:
        extra = {k: [str(x) for x in v] for k, v in _dict(spec.get("extra")).items() if isinstance(v, list)}
        groups = tuple(str(g) for g in spec.get("groups") or [] if isinstance(g, str))
        return UserInfo(str(spec.get("user") or ""), uid=str(spec.get("uid") or ""), groups=groups, extra=extra)

    def subject_access_review(self, user: UserInfo, namespace: str, name: str, body: Obj) -> tuple[int, Obj]:
        spec = _dict(body.get("spec"))
        errs = self._spec_errors(spec)
        if not spec.get("user") and not spec.get("groups"):
            errs.append(field.invalid("spec.user", str(spec.get("user") or ""),
                                      "at least one of user or group must be specified"))
        if errs:
            raise errors.invalid("SubjectAccessReview", AUTHZ, "", errs)
        return 201, _answer("SubjectAccessReview", AUTHZ, body, spec=spec,
                            status=self._evaluate(self._subject(spec), spec))

    def local_subject_access_review(self, user: UserInfo, namespace: str, name: str,
                                    body: Obj) -> tuple[int, Obj]:
        spec = _dict(body.get("spec"))
        errs = self._spec_errors(spec)
        if spec.get("nonResourceAttributes") is not None:
            errs = [field.invalid("spec.nonResourceAttributes", field.GoRaw(_go_struct(spec["nonResourceAttributes"])),
                                  "disallowed on this kind of request")]
        if not spec.get("user") and not spec.get("groups"):
            errs.append(field.invalid("spec.user", str(spec.get("user") or ""),
                                      "at least one of user or group must be specified"))
        if errs:
            raise errors.invalid("LocalSubjectAccessReview", AUTHZ, "", errs)
        res = _dict(spec.get("resourceAttributes"))
        meta_ns = _dict(body.get("metadata")).get("namespace") or namespace
        if (res.get("namespace") or "") != meta_ns or meta_ns != namespace:
            raise errors.bad_request(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
        return 201, _answer("LocalSubjectAccessReview", AUTHZ, body, spec=spec,
                            status=self._evaluate(self._subject(spec), spec))

    def self_subject_rules_review(self, user: UserInfo, namespace: str, name: str,
                                  body: Obj) -> tuple[int, Obj]:
        spec = _dict(body.get("spec"))
        ns = str(spec.get("namespace") or "")
        if not ns:
            raise errors.bad_request("no namespace on request")
        rules, errs = self.chain.authorizer.resolver.rules_for(user, ns)
        resource_rules: list[Obj] = []
        non_resource_rules: list[Obj] = []
        for rule in rules:
            if rule.get("resources"):
                item: Obj = {"verbs": list(rule.get("verbs") or [])}
                for key in ("apiGroups", "resources", "resourceNames"):
                    if rule.get(key):
                        item[key] = list(rule[key])
                resource_rules.append(item)
            if rule.get("nonResourceURLs"):
                non_resource_rules.append({"verbs": list(rule.get("verbs") or []),
                                           "nonResourceURLs": list(rule["nonResourceURLs"])})
        status: Obj = {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
                       "incomplete": False}
        if errs:
            status["evaluationError"] = rbac.aggregate_errors(errs)
        return 201, _answer("SelfSubjectRulesReview", AUTHZ, {}, spec={}, status=status)

    # -- authentication reviews ----------------------------------------------------------------------

    def self_subject_review(self, user: UserInfo, namespace: str, name: str, body: Obj) -> tuple[int, Obj]:
        meta = {"creationTimestamp": now_rfc3339(self.registry.clock.now())}
        return 201, {"kind": "SelfSubjectReview", "apiVersion": f"{AUTHN}/v1", "metadata": meta,
                     "status": {"userInfo": user.to_api()}}

    def token_review(self, user: UserInfo, namespace: str, name: str, body: Obj) -> tuple[int, Obj]:
        spec = _dict(body.get("spec"))
        token = str(spec.get("token") or "")
        if not token:
            raise errors.invalid("TokenReview", AUTHN, "", [field.required("spec.token", "")])
        found = self.chain.user_from_token(token)
        status: Obj = {"user": {}}
        if found is not None:
            status = {"authenticated": True, "user": found.to_api(),
                      "audiences": list(spec.get("audiences") or self.chain.issuer.api_audiences)}
        return 201, _answer("TokenReview", AUTHN, body, spec=spec, status=status)

    # -- TokenRequest --------------------------------------------------------------------------------

    def token_request(self, user: UserInfo, namespace: str, name: str, body: Obj) -> tuple[int, Obj]:
        meta = _dict(body.get("metadata"))
        if meta.get("name") and meta["name"] != name:
            raise errors.invalid("TokenRequest", AUTHN, name, [
                field.invalid("metadata.name", meta["name"], "must match the service account name if specified")])
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.invalid("TokenRequest", AUTHN, name, [
                field.invalid("metadata.namespace", meta["namespace"],
                              "must match the service account namespace if specified")])
        sa = self.registry.get(self.registry.resource("serviceaccounts"), namespace, name)
        spec = dict(_dict(body.get("spec")))
        audiences = [str(a) for a in spec.get("audiences") or []] or list(self.chain.issuer.api_audiences)
        seconds = spec.get("expirationSeconds")
        seconds = DEFAULT_TOKEN_SECONDS if seconds is None else seconds
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise errors.bad_request("TokenRequest in version \"v1\" cannot be handled as a TokenRequest: "
                                     "json: cannot unmarshal into Go struct field TokenRequestSpec.spec."
                                     "expirationSeconds of type int64")
        now = self.registry.clock.now()
        errs: list[field.FieldError] = []
        if seconds < MIN_TOKEN_SECONDS:
            errs.append(field.invalid("spec.expirationSeconds", seconds,
                                      "may not specify a duration less than 10 minutes"))
        if seconds > MAX_TOKEN_SECONDS:
            errs.append(field.invalid("spec.expirationSeconds", seconds,
                                      "may not specify a duration larger than 2^32 seconds"))
        if errs:
            raise errors.invalid("TokenRequest", AUTHN, "", errs)
        pod: dict[str, str] | None = None
        ref = spec.get("boundObjectRef")
        if isinstance(ref, dict) and ref:
            pod = self._bound_pod(ref, namespace, sa)
        sa_meta = sa.get("metadata") or {}
        token, _ = self.chain.issuer.issue(now, seconds, audiences, namespace, name, str(sa_meta.get("uid", "")),
                                           pod=pod)
        spec["audiences"] = audiences
        spec["expirationSeconds"] = seconds
        spec.setdefault("boundObjectRef", None)
        answer_meta = {**meta, "name": name, "namespace": namespace, "creationTimestamp": now_rfc3339(now)}
        return 201, {"kind": "TokenRequest", "apiVersion": f"{AUTHN}/v1", "metadata": answer_meta, "spec": spec,
                     "status": {"token": token, "expirationTimestamp": now_rfc3339(now + seconds)}}

    def _bound_pod(self, ref: Obj, namespace: str, sa: Obj) -> dict[str, str]:
        kind, api_version = ref.get("kind"), ref.get("apiVersion") or "v1"
        if kind != "Pod" or api_version != "v1":
            raise errors.bad_request(f"cannot bind token for object of type /{api_version}, Kind={kind}"
                                     if "/" not in str(api_version) else
                                     f"cannot bind token for object of type {api_version}, Kind={kind}")
        pod = self.registry.get(self.registry.resource("pods"), namespace, str(ref.get("name") or ""))
        pod_meta = pod.get("metadata") or {}
        uid = str(ref.get("uid") or "")
        if uid and uid != pod_meta.get("uid"):
            raise errors.conflict("pods", "", str(pod_meta.get("name")),
                                  f"the UID in the bound object reference ({uid}) does not match the UID in record. "
                                  "The object might have been deleted and then recreated")
        sa_name = (sa.get("metadata") or {}).get("name")
        if ((pod.get("spec") or {}).get("serviceAccountName") or "default") != sa_name:
            raise errors.bad_request(f"cannot bind token for serviceaccount {errors.quote(str(sa_name))} to pod "
                                     "running with different serviceaccount name.")
        return {"name": str(pod_meta.get("name")), "uid": str(pod_meta.get("uid"))}


def _go_struct(value: Any) -> str:
    """Enough of Go's ``%#v`` for an attributes struct in a validation message."""
    if not isinstance(value, dict):
        return str(value)
    inner = ", ".join(f"{k[:1].upper()}{k[1:]}:{errors.quote(str(v))}" for k, v in value.items())
    return f"&authorization.NonResourceAttributes{{{inner}}}"


def install(registry: Registry) -> None:
    """Serve the review kinds and the ServiceAccount ``token`` subresource; add ServiceAccount admission."""
    for rt in review_resources():
        registry.register(rt)
    sa = registry.resource("serviceaccounts")
    sa.subresources["token"] = Subresource("token", ["create"], kind="TokenRequest", group=AUTHN, version="v1")
    registry.admit_create.append(service_account_admission(registry))
    guard = EscalationGuard(rbac.Authorizer(registry.store))  # no RBAC escalation through role writes
    registry.admit_create.append(guard.check_create)
    registry.admit_update.append(guard.check_update)
