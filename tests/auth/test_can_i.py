"""``kubectl auth can-i`` (SelfSubjectAccessReview through impersonation) against a table of RBAC cases.

Each expected answer follows Kubernetes' documented RBAC semantics (reference/access-authn-authz/rbac):
rules are additive; a RoleBinding grants only in its namespace, also when it refers to a ClusterRole;
``resourceNames`` restrict by name (so ``list``/``create`` with no name are not granted); subresources
are separate resources (``pods/log``), ``*/scale`` matches every scale subresource; ``*`` matches any verb,
group or resource; non-resource URLs match exactly or by a trailing ``*`` prefix; aggregated
ClusterRoles (``view``/``edit``/``admin`` and custom ones) carry the rules of the roles they select;
the default bindings give every authenticated user discovery and self-review access, and
``system:public-info-viewer`` also to the unauthenticated.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kubeproof import Cluster
from kubeproof.testing import eventually

RBAC = "rbac.authorization.k8s.io"
NS = "cani-" + uuid.uuid4().hex[:8]
OTHER = "cani-other-" + uuid.uuid4().hex[:8]
SUFFIX = uuid.uuid4().hex[:6]


def _role(kind: str, name: str, rules: list[dict[str, object]], namespace: str | None = None,
          labels: dict[str, str] | None = None, aggregate: dict[str, str] | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    role: dict[str, object] = {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta, "rules": rules}
    if aggregate:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
    return role


def _binding(kind: str, name: str, role_kind: str, role: str, subjects: list[tuple[str, str]],
             namespace: str | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    subs: list[dict[str, str]] = []
    for sub_kind, sub_name in subjects:
        if sub_kind == "ServiceAccount":
            sa_ns, sa_name = sub_name.split(":")
            subs.append({"kind": "ServiceAccount", "name": sa_name, "namespace": sa_ns})
        else:
            subs.append({"apiGroup": RBAC, "kind": sub_kind, "name": sub_name})
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role}, "subjects": subs}


def _r(groups: list[str], resources: list[str], verbs: list[str],
       names: list[str] | None = None) -> dict[str, object]:
    rule: dict[str, object] = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def c(name: str) -> str:
    """A cluster-scoped name private to this module (the cluster is shared by the module only, but
    the names stay unique anyway)."""
    return f"{name}-{SUFFIX}"


@pytest.fixture(scope="module")
def policy(cluster: Cluster) -> Iterator[None]:
    import yaml

    objs: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OTHER}},
        _role("Role", "pod-reader", [_r([""], ["pods"], ["get", "list", "watch"])], NS),
        _binding("RoleBinding", "alice-pods", "Role", "pod-reader", [("User", "alice")], NS),
        _role("ClusterRole", c("cm-a-editor"), [_r([""], ["configmaps"], ["get", "update"], ["cm-a"])]),
        _binding("RoleBinding", "bob-cm", "ClusterRole", c("cm-a-editor"), [("User", "bob")], NS),
        _role("ClusterRole", c("scaler"), [_r(["apps"], ["deployments/scale"], ["update"]),
                                           _r(["apps"], ["*/scale"], ["get"])]),
        _binding("ClusterRoleBinding", c("devs-scale"), "ClusterRole", c("scaler"), [("Group", "devs")]),
        _role("ClusterRole", c("apps-all"), [_r(["apps"], ["*"], ["*"])]),
        _binding("ClusterRoleBinding", c("carol-apps"), "ClusterRole", c("apps-all"), [("User", "carol")]),
        _role("ClusterRole", c("log-urls"), [{"nonResourceURLs": ["/logs/*", "/metrics"], "verbs": ["get"]}]),
        _binding("ClusterRoleBinding", c("dave-urls"), "ClusterRole", c("log-urls"), [("User", "dave")]),
        _binding("ClusterRoleBinding", c("frank-view"), "ClusterRole", "view", [("User", "frank")]),
        _binding("RoleBinding", "robot-edit", "ClusterRole", "edit", [("ServiceAccount", f"{NS}:robot")], NS),
        _role("ClusterRole", c("agg-parent"), [], aggregate={f"example.com/agg-{SUFFIX}": "true"}),
        _role("ClusterRole", c("agg-child"), [_r([""], ["secrets"], ["get"])],
              labels={f"example.com/agg-{SUFFIX}": "true"}),
        _binding("ClusterRoleBinding", c("gina-agg"), "ClusterRole", c("agg-parent"), [("User", "gina")]),
        _role("Role", "svc-lister", [_r([""], ["services"], ["list"])], NS),
        _binding("RoleBinding", "ns-sas-services", "Role", "svc-lister",
                 [("Group", f"system:serviceaccounts:{NS}")], NS),
        _role("Role", "log-reader", [_r([""], ["pods/log"], ["get"])], NS),
        _binding("RoleBinding", "erin-logs", "Role", "log-reader", [("User", "erin")], NS),
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objs))

    def aggregated() -> None:
        out = cluster.kubectl("get", "clusterrole", c("agg-parent"), "-o", "jsonpath={.rules[*].resources}").stdout
        assert "secrets" in out

    eventually(aggregated)
    yield
    cluster.kubectl("delete", "-f", "-", "--ignore-not-found", "--wait=false", input=yaml.safe_dump_all(objs))


# (kubectl auth can-i arguments, expected answer, the rule of RBAC the case checks)
CASES: list[tuple[str, bool, str]] = [
    ("get pods -n NS --as alice", True, "Role grants get"),
    ("list pods -n NS --as alice", True, "Role grants list"),
    ("watch pods -n NS --as alice", True, "Role grants watch"),
    ("get pods/anything -n NS --as alice", True, "no resourceNames: every name"),
    ("create pods -n NS --as alice", False, "verbs not granted are denied"),
    ("list pods -n OTHER --as alice", False, "a RoleBinding grants only in its namespace"),
    ("list pods -A --as alice", False, "a namespaced Role never grants cluster-wide"),
    ("get pods --subresource=log -n NS --as alice", False, "a subresource is a separate resource"),
    ("list services -n NS --as alice", False, "unrelated resource"),
    ("get configmaps/cm-a -n NS --as bob", True, "resourceNames match the name"),
    ("update configmaps/cm-a -n NS --as bob", True, "resourceNames with another granted verb"),
    ("get configmaps/cm-b -n NS --as bob", False, "resourceNames exclude other names"),
    ("list configmaps -n NS --as bob", False, "resourceNames never grant list (no name)"),
    ("delete configmaps/cm-a -n NS --as bob", False, "verb outside the rule"),
    ("get configmaps/cm-a -n OTHER --as bob", False, "RoleBinding to a ClusterRole stays in its namespace"),
    ("update deployments --subresource=scale -n NS --as someone --as-group devs", True, "group subject"),
    ("update deployments -n NS --as someone --as-group devs", False, "scale subresource is not the resource"),
    ("get statefulsets --subresource=scale -n NS --as someone --as-group devs", True, "*/scale matches any"),
    ("get replicasets --subresource=status -n NS --as someone --as-group devs", False, "*/scale is only scale"),
    ("update deployments --subresource=scale -n NS --as someone", False, "without the group: nothing"),
    ("update deployments --subresource=scale -A --as someone --as-group devs", True,
     "ClusterRoleBinding grants cluster-wide"),
    ("delete deployments -n NS --as carol", True, "resources * and verbs *"),
    ("create statefulsets -A --as carol", True, "ClusterRoleBinding: all namespaces"),
    ("deletecollection replicasets -n OTHER --as carol", True, "verb * includes deletecollection"),
    ("get deployments --subresource=status -n NS --as carol", True, "resources * includes subresources"),
    ("get pods -n NS --as carol", False, "apiGroups restrict: core is not apps"),
    ("get /logs/kubelet.log --as dave", True, "nonResourceURL prefix with *"),
    ("get /logs --as dave", False, "the * prefix needs the slash"),
    ("get /metrics --as dave", True, "exact nonResourceURL"),
    ("get /metrics/extra --as dave", False, "exact URL has no prefix match"),
    ("post /metrics --as dave", False, "non-resource verbs are HTTP verbs"),
    ("list deployments -n NS --as frank", True, "view (aggregated) reads apps"),
    ("get pods --subresource=log -n NS --as frank", True, "view reads pods/log"),
    ("get secrets -n NS --as frank", False, "view excludes secrets"),
    ("create pods -n NS --as frank", False, "view is read-only"),
    ("create deployments -n NS --as system:serviceaccount:NS:robot", True, "edit via RoleBinding to a SA"),
    ("get secrets -n NS --as system:serviceaccount:NS:robot", True, "edit reads secrets"),
    ("create serviceaccounts --subresource=token -n NS --as system:serviceaccount:NS:robot", True,
     "edit may request tokens"),
    ("create rolebindings -n NS --as system:serviceaccount:NS:robot", False, "edit cannot grant RBAC"),
    ("create deployments -n OTHER --as system:serviceaccount:NS:robot", False, "RoleBinding scope for a SA"),
    ("list services -n NS --as system:serviceaccount:NS:anyone", True, "group of the namespace's SAs"),
    ("list services -n OTHER --as system:serviceaccount:NS:anyone", False, "that group's binding is local"),
    ("get secrets -n NS --as gina", True, "custom aggregated ClusterRole"),
    ("list secrets -n NS --as gina", False, "aggregation copies rules, not more"),
    ("get pods/log -n NS --as erin", False, "TYPE/NAME form: the pod named log, not the subresource"),
    ("get pods --subresource=log -n NS --as erin", True, "subresource granted alone"),
    ("get pods -n NS --as erin", False, "subresource grant is not the resource"),
    ("create selfsubjectaccessreviews --as zed", True, "system:basic-user for the authenticated"),
    ("get /version --as zed", True, "system:public-info-viewer"),
    ("get /apis/apps --as zed", True, "system:discovery /apis/*"),
    ("get /healthz/etcd --as zed", False, "public info is exact /healthz"),
    ("list namespaces --as zed", False, "nothing else by default"),
    ("* * --as someone --as-group system:masters", True, "system:masters may do anything"),
    ("* deployments -n NS --as carol", True, "verb * matched by verbs *"),
    ("* pods -n NS --as alice", False, "verb * needs a * rule"),
]


def _args(spec: str) -> list[str]:
    return [part.replace("NS", NS).replace("OTHER", OTHER) for part in spec.split(" ")]


@pytest.mark.parametrize(("spec", "expected", "why"), CASES, ids=[case[0] for case in CASES])
def test_can_i(cluster: Cluster, policy: None, spec: str, expected: bool, why: str) -> None:
    proc = cluster.kubectl("auth", "can-i", *_args(spec), check=False)
    assert proc.stdout.strip() == ("yes" if expected else "no"), f"{why}: {proc.stdout} {proc.stderr}"
    assert proc.returncode == (0 if expected else 1)


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


def test_can_i_list(cluster: Cluster, policy: None) -> None:
    """``--list`` (SelfSubjectRulesReview) shows the rules of every binding that applies in the namespace."""
    out = cluster.kubectl("auth", "can-i", "--list", "-n", NS, "--as", "bob").stdout
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["configmaps", "[]", "[cm-a]", "[get", "update]"] in rows
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in rows
    assert ["[/version]", "[]", "[get]"] in rows
    # in another namespace the RoleBinding does not apply
    other = cluster.kubectl("auth", "can-i", "--list", "-n", OTHER, "--as", "bob").stdout
    assert "cm-a" not in other


def test_kubectl_validates_a_review_with_the_v2_schemas(cluster: Cluster) -> None:
    """Review kinds have no PATCH operation, so kubectl falls back to /openapi/v2 in protobuf and validates
    on the client: an unknown field is its ValidationError, before any request reaches the server."""
    import json

    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"bogus": 1, "resourceAttributes": {"verb": "get", "resource": "pods"}}}
    refused = cluster.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(review), check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        'error: error validating "STDIN": error validating data: ValidationError(SelfSubjectAccessReview.spec): '
        'unknown field "bogus" in io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec; if you choose to '
        "ignore these errors, turn validation off with --validate=false")


@pytest.mark.parametrize(("path", "allowed"), [("/version", True), ("/healthz", True), ("/api", False)])
def test_anonymous_subject_access_review(cluster: Cluster, path: str, allowed: bool) -> None:
    """The unauthenticated get only public info (``kubectl auth can-i --as system:anonymous`` itself is
    refused: self reviews need ``system:basic-user``, bound to the authenticated only)."""
    import json

    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": "system:anonymous", "groups": ["system:unauthenticated"],
                       "nonResourceAttributes": {"path": path, "verb": "get"}}}
    # Validated by kubectl on the client with /openapi/v2 (protobuf), as against a real cluster (docs/auth.md).
    out = cluster.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(review)).stdout
    assert json.loads(out)["status"]["allowed"] is allowed
    refused = cluster.kubectl("auth", "can-i", "get", path, "--as", "system:anonymous", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): selfsubjectaccessreviews.authorization.k8s.io is forbidden: User '
        '"system:anonymous" cannot create resource "selfsubjectaccessreviews" in API group "authorization.k8s.io" '
        "at the cluster scope")
