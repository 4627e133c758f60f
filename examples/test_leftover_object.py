"""409 AlreadyExists from a leftover object (KServe #4138).

A cluster-scoped object was deleted and at once re-created under the same name; its finalizer was still
running, so the create failed with ``409 AlreadyExists: object is being deleted``. The fix: wait until the
old object is really gone before reusing its name, or never reuse a name.
"""

from __future__ import annotations

import threading
from typing import Any

from kubeproof.testing import Kube, unique_name

FINALIZER = "example.com/cleanup"


def cluster_role(name: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "finalizers": [FINALIZER]}, "rules": []}


def finalizer_remover(kube: Kube, name: str, stop: threading.Event) -> None:
    """Plays the controller: once the object is being deleted, does its cleanup and drops the finalizer."""
    ref = cluster_role(name)
    while not stop.is_set():
        current = kube.try_get("ClusterRole", name)
        if current is None:
            return
        if current["metadata"].get("deletionTimestamp"):
            kube.patch(current, {"metadata": {"finalizers": None}})
            return
        try:
            kube.wait_for(ref, lambda o: bool(o["metadata"].get("deletionTimestamp")), timeout=1)
        except AssertionError:
            continue  # not deleted yet: look again (and see whether the test told us to stop)


def test_reuse_a_name_only_once_the_old_object_is_gone(kube: Kube) -> None:
    name = unique_name("reader")  # unique per test run; reused below on purpose, as the incident did
    stop = threading.Event()
    controller = threading.Thread(target=finalizer_remover, args=(kube, name, stop), name="finalizer-remover")
    first = kube.create(cluster_role(name))
    controller.start()
    try:
        kube.delete(first)  # waits until the finalizer is gone and the object with it (wait_gone)
        second = kube.create(cluster_role(name))  # no 409: the name is free now
        assert second["metadata"]["uid"] != first["metadata"]["uid"]
        kube.patch(second, {"metadata": {"finalizers": None}})  # nothing will clean up after this one
    finally:
        stop.set()
        controller.join()


def test_or_never_reuse_a_name(kube: Kube) -> None:
    # Each run and each xdist worker gets its own name, so a previous object still being finalized
    # cannot collide with this one.
    role = kube.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": unique_name("reader")}, "rules": []})
    assert role["metadata"]["name"].startswith("reader-")
