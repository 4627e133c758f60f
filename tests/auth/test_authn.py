"""Authentication: TokenRequest (``kubectl create token``), ``kubectl auth whoami``, impersonation,
client certificates, anonymous requests and the token's life cycle."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.clock import ManualClock

from ._support import token_client, token_kubeconfig, unique


def _kubectl_as(cluster: Cluster, kubeconfig: Any, *args: str) -> Any:
    import subprocess

    from kubeproof.cluster import find_tool

    env = cluster.env()
    env["KUBECONFIG"] = str(kubeconfig)
    # a discovery cache of its own: whether kubectl starts with discovery changes its error wording
    env["KUBECACHEDIR"] = str(cluster.workdir / unique("kubecache"))
    kubectl = find_tool("kubectl")
    assert kubectl is not None
    return subprocess.run([kubectl, *args], capture_output=True, text=True, env=env, timeout=60)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_create_token_authenticates_as_the_service_account(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "serviceaccount", "builder", "-n", namespace)
    token = cluster.kubectl("create", "token", "builder", "-n", namespace).stdout.strip()
    claims = _claims(token)
    sa_uid = cluster.kubectl("get", "sa", "builder", "-n", namespace, "-o", "jsonpath={.metadata.uid}").stdout
    assert claims["sub"] == f"system:serviceaccount:{namespace}:builder"
    assert claims["iss"] == claims["aud"][0] == "https://kubernetes.default.svc.cluster.local"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["kubernetes.io"] == {"namespace": namespace, "serviceaccount": {"name": "builder", "uid": sa_uid}}

    whoami = _kubectl_as(cluster, token_kubeconfig(cluster, token, unique("sa")), "auth", "whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    info = json.loads(whoami.stdout)["status"]["userInfo"]
    assert info == {"username": f"system:serviceaccount:{namespace}:builder", "uid": sa_uid,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                               "system:authenticated"]}
    table = _kubectl_as(cluster, token_kubeconfig(cluster, token, unique("sa")), "auth", "whoami").stdout
    assert table.splitlines()[1].split() == ["Username", f"system:serviceaccount:{namespace}:builder"]


def test_token_request_validation(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    cluster.kubectl("create", "serviceaccount", "api", "-n", namespace)
    short = cluster.kubectl("create", "token", "api", "-n", namespace, "--duration=599s", check=False)
    assert short.returncode == 1
    assert short.stderr.strip() == (
        'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: '
        "Invalid value: 599: may not specify a duration less than 10 minutes")
    missing = cluster.kubectl("create", "token", "ghost", "-n", namespace, check=False)
    assert missing.stderr.strip() == 'error: failed to create token: serviceaccounts "ghost" not found'
    answer = core.create_namespaced_service_account_token(
        "api", namespace, {"spec": {"audiences": ["vault"], "expirationSeconds": 600}})
    assert answer.spec.audiences == ["vault"] and answer.spec.expiration_seconds == 600
    assert _claims(answer.status.token)["aud"] == ["vault"]
    # a token for another audience does not authenticate to the API server
    api = token_client(cluster, answer.status.token)
    try:
        with pytest.raises(ApiException) as failed:
            client.CoreV1Api(api).list_namespaced_pod(namespace)
        assert failed.value.status == 401
    finally:
        api.close()


def test_token_bound_to_a_pod_dies_with_the_pod(cluster: Cluster, k8s_api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(k8s_api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "web"}})
    core.create_namespaced_pod(namespace, {"metadata": {"name": "web"}, "spec": {
        "serviceAccountName": "web", "containers": [{"name": "c", "image": "nginx"}]}})
    token = cluster.kubectl("create", "token", "web", "-n", namespace, "--bound-object-kind=Pod",
                            "--bound-object-name=web").stdout.strip()
    pod_uid = core.read_namespaced_pod("web", namespace).metadata.uid
    assert _claims(token)["kubernetes.io"]["pod"] == {"name": "web", "uid": pod_uid}
    kubeconfig = token_kubeconfig(cluster, token, unique("pod"))
    info = json.loads(_kubectl_as(cluster, kubeconfig, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert info["extra"] == {"authentication.kubernetes.io/pod-name": ["web"],
                             "authentication.kubernetes.io/pod-uid": [pod_uid]}
    core.delete_namespaced_pod("web", namespace, grace_period_seconds=0)
    gone = _kubectl_as(cluster, kubeconfig, "auth", "whoami")
    assert gone.returncode == 1
    assert gone.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"


def test_token_stops_working_when_the_account_is_deleted(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "serviceaccount", "temp", "-n", namespace)
    token = cluster.kubectl("create", "token", "temp", "-n", namespace).stdout.strip()
    kubeconfig = token_kubeconfig(cluster, token, unique("temp"))
    assert _kubectl_as(cluster, kubeconfig, "auth", "whoami").returncode == 0
    cluster.kubectl("delete", "serviceaccount", "temp", "-n", namespace)
    assert _kubectl_as(cluster, kubeconfig, "auth", "whoami").returncode == 1
    # same name again: a new uid, so the old token stays dead
    cluster.kubectl("create", "serviceaccount", "temp", "-n", namespace)
    assert _kubectl_as(cluster, kubeconfig, "auth", "whoami").returncode == 1


def test_bad_tokens_are_401(cluster: Cluster) -> None:
    """(Requests without credentials: test_every_route.py; kubectl would prompt for a password.)"""
    for token in ("wrong", cluster.token + "x"):
        proc = _kubectl_as(cluster, token_kubeconfig(cluster, token, unique("anon")), "get", "pods")
        assert proc.returncode == 1
        # kubectl starts with discovery, whose 401 client-go words generically
        assert proc.stderr.strip().splitlines()[-1] == (
            "error: You must be logged in to the server (the server has asked for the client to provide "
            "credentials)")


def test_impersonation(cluster: Cluster, namespace: str) -> None:
    who = json.loads(cluster.kubectl("auth", "whoami", "-o", "json", "--as", "jane", "--as-group", "qa",
                                     "--as-group", "ops", "--as-uid", "1234").stdout)["status"]["userInfo"]
    assert who == {"username": "jane", "uid": "1234", "groups": ["qa", "ops", "system:authenticated"]}
    sa = json.loads(cluster.kubectl("auth", "whoami", "-o", "json", "--as",
                                    f"system:serviceaccount:{namespace}:default").stdout)["status"]["userInfo"]
    assert sa["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]
    # a user without the impersonate verb gets the impersonation's own 403
    cluster.kubectl("create", "serviceaccount", "plain", "-n", namespace)
    token = cluster.kubectl("create", "token", "plain", "-n", namespace).stdout.strip()
    kubeconfig = token_kubeconfig(cluster, token, unique("imp"))
    api = token_client(cluster, token)
    api.set_default_header("Impersonate-User", "jane")
    try:
        with pytest.raises(ApiException) as refused:
            client.CoreV1Api(api).list_namespaced_pod(namespace)
    finally:
        api.close()
    assert refused.value.status == 403
    assert json.loads(refused.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'users "jane" is forbidden: User "system:serviceaccount:{namespace}:plain" cannot impersonate '
                   'resource "users" in API group "" at the cluster scope',
        "reason": "Forbidden", "details": {"name": "jane", "kind": "users"}, "code": 403}
    # granted impersonation of one user only (resourceNames)
    cluster.kubectl("create", "role", "imp", "-n", namespace, "--verb=impersonate", "--resource=serviceaccounts",
                    "--resource-name=default")
    cluster.kubectl("create", "rolebinding", "imp", "-n", namespace, "--role=imp",
                    f"--serviceaccount={namespace}:plain")
    allowed = _kubectl_as(cluster, kubeconfig, "auth", "whoami", "--as", f"system:serviceaccount:{namespace}:default")
    assert allowed.returncode == 0, allowed.stderr
    other = _kubectl_as(cluster, kubeconfig, "auth", "whoami", "--as", f"system:serviceaccount:{namespace}:plain")
    # (kubectl auth whoami words any 403 this way)
    assert other.returncode == 1 and other.stderr.strip() == (
        "error: the selfsubjectreviews API is not enabled in the cluster or you do not have permission to call it")


def test_client_certificate(cluster: Cluster) -> None:
    cert, key = cluster.client_certificate("cert-user", ["devs", "qa"])
    config = yaml.safe_load(token_kubeconfig(cluster, None, unique("cert")).read_text())
    config["users"][0]["user"] = {"client-certificate-data": base64.b64encode(cert).decode(),
                                  "client-key-data": base64.b64encode(key).decode()}
    path = cluster.workdir / f"kubeconfig-{unique('cert')}"
    path.write_text(yaml.safe_dump(config))
    info = json.loads(_kubectl_as(cluster, path, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert info == {"username": "cert-user", "groups": ["devs", "qa", "system:authenticated"]}
    denied = _kubectl_as(cluster, path, "get", "secrets")
    assert 'User "cert-user" cannot list resource "secrets"' in denied.stderr


def test_legacy_token_secret(cluster: Cluster, namespace: str) -> None:
    """A ``kubernetes.io/service-account-token`` Secret gets a token that authenticates as its account."""
    from kubeproof.testing import eventually

    cluster.kubectl("create", "serviceaccount", "legacy", "-n", namespace)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": {"name": "legacy-token", "annotations": {"kubernetes.io/service-account.name": "legacy"}}}
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(secret))

    def token() -> str:
        data = cluster.kubectl("get", "secret", "legacy-token", "-n", namespace, "-o", "jsonpath={.data.token}").stdout
        assert data
        return base64.b64decode(data).decode()

    value = eventually(token)
    kubeconfig = token_kubeconfig(cluster, value, unique("legacy"))
    info = json.loads(_kubectl_as(cluster, kubeconfig, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert info["username"] == f"system:serviceaccount:{namespace}:legacy"
    cluster.kubectl("delete", "secret", "legacy-token", "-n", namespace)
    assert _kubectl_as(cluster, kubeconfig, "auth", "whoami").returncode == 1


def test_token_expires_on_the_cluster_clock() -> None:
    clock = ManualClock()
    with Cluster(clock=clock) as cluster:
        cluster.kubectl("create", "serviceaccount", "timed", "-n", "default")
        token = cluster.kubectl("create", "token", "timed", "-n", "default", "--duration=10m").stdout.strip()
        kubeconfig = token_kubeconfig(cluster, token, "clock")
        assert _kubectl_as(cluster, kubeconfig, "auth", "whoami").returncode == 0
        clock.advance(600 + 61)  # past exp plus the 60 s leeway
        assert _kubectl_as(cluster, kubeconfig, "auth", "whoami").returncode == 1
