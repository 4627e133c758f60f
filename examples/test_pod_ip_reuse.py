"""A precondition that only held by luck (sgl-model-gateway: a replacement pod got the IP of the pod it
replaced, and a test that checked "the old worker's address is gone" passed or failed by chance).

Check preconditions before acting: ``kube.assert_absent`` (the old object is really gone, or a message
saying what holds it) and ``require(...)``, which skips with the reason when the test cannot tell what
it means to check, rather than passing by luck.
"""

from __future__ import annotations

from typing import Any

from kubeproof.testing import Kube, require


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "worker"}},
            "spec": {"containers": [{"name": "c", "image": "example.com/worker:1"}]}}


def pod_ip(obj: dict[str, Any]) -> str:
    ip = (obj.get("status") or {}).get("podIP")
    assert ip, "no pod IP yet"
    return str(ip)


def test_replacement_pod_is_told_apart_from_the_old_one(kube: Kube, namespace: str) -> None:
    old = kube.wait_for(kube.create(pod("worker")), pod_ip, timeout=60)
    old_ip = pod_ip(old)

    kube.delete(old)  # waits until it is gone
    kube.assert_absent(old)  # precondition: nothing of the old pod is left (says what holds it otherwise)

    new = kube.wait_for(kube.create(pod("worker")), pod_ip, timeout=60)
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    # precondition: the addresses differ, or "the old address is gone" cannot be checked at all
    require(pod_ip(new) != old_ip, f"the replacement pod reused the old pod's IP {old_ip}; "
                                   "this check cannot tell them apart")
    current_ips = {pod_ip(p) for p in kube.list("Pod", label_selector="app=worker") if p["status"].get("podIP")}
    assert old_ip not in current_ips
