"""Fixed sleeps: five seconds of sleep before an assertion pass on a laptop and fail on a loaded CI runner.

Wait on the state itself instead: watch-based waits for objects (they see every state, even one that has
already passed) and ``eventually``/``consistently`` for anything else. A wait that passes returns at
once; one that fails says what it waited for and what it saw last.
"""

from __future__ import annotations

from typing import Any

from kubeproof.testing import Kube, consistently, eventually


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "example.com/app:1"}]}}}}


def test_wait_for_the_condition_not_for_time(kube: Kube, namespace: str) -> None:
    created = kube.create(deployment("web", replicas=2))
    # Instead of sleeping five seconds, then asserting that availableReplicas is 2:
    kube.wait_for_condition(created, "Available", timeout=60)  # for the current generation, not an old one
    kube.wait_for_jsonpath(created, "{.status.readyReplicas}", 2, timeout=60)


def test_poll_what_cannot_be_watched(kube: Kube, namespace: str) -> None:
    created = kube.create(deployment("api", replicas=1))

    def running_pods() -> list[str]:
        pods = kube.list("Pod", label_selector="app=api")
        return [p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") == "Running"]

    names = eventually(running_pods, matcher=lambda found: len(found) == 1, timeout=60,
                       description="one running pod of deployment api")
    # and it stays that way: no restarts, no second pod
    consistently(running_pods, matcher=lambda found: found == names, duration=0.5,
                 description="the same single pod")
    assert kube.get(created)["spec"]["replicas"] == 1
