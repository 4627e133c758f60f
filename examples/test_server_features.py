"""A server feature or wire format assumed, not checked ("expected 406, got 422").

A test that needs a kind, an API version or a server behaviour that some clusters lack fails there for a
reason unrelated to the code under test, or worse, returns early and passes without testing anything.
Ask the server, and skip with the reason: ``require(condition, reason)``.
"""

from __future__ import annotations

from kubeproof.testing import Kube, require


def test_needs_a_kind_the_server_may_not_serve(kube: Kube, namespace: str) -> None:
    require(kube.has_resource("batch/v1", "CronJob"), "this cluster does not serve batch/v1 CronJob")
    cron = kube.create({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
                        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "example.com/job:1"}]}}}}}})
    assert cron["spec"]["schedule"] == "0 3 * * *"


def test_needs_a_wire_behaviour(kube: Kube, namespace: str) -> None:
    # Strict field validation answers an unknown field with 400 on servers that have it (1.27+); on an
    # older server the same request succeeds and drops the field, so check the server first.
    from kubernetes.client import VersionApi

    version = VersionApi(kube.api_client).get_code()
    minor = int("".join(ch for ch in version.minor if ch.isdigit()) or 0)
    require((int(version.major), minor) >= (1, 27),
            f"strict field validation needs Kubernetes 1.27+, the server is {version.git_version}")
    manifest = f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: strict, namespace: {namespace}}}
colour: red
"""
    result = kube.kubectl("create", "--validate=strict", "-f", "-", input=manifest, check=False)
    assert result.returncode == 1, result.stdout
    assert 'unknown field "colour"' in result.stderr


def test_needs_the_embedded_timeline(kube: Kube, namespace: str) -> None:
    require(kube.connection.cluster is not None, "needs the in-process embedded cluster's API timeline")
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen"}})
    events = kube.embedded().timeline.entries(resource="configmaps", namespace=namespace)
    assert [e.type for e in events if e.name == "seen"] == ["ADDED"]
