"""Shared names and selectors: a fixed name (``test-ns``, ``reader``) collides with another xdist worker,
with an earlier test whose object is still being deleted, or with the previous run; a selector like
``app=web`` over the whole cluster counts other tests' objects too.

Use the ``namespace`` fixture (a fresh, unique namespace per test), ``unique_name()`` for anything
cluster-scoped, and the test's own label, ``kube.label_selector``, when listing across namespaces.
"""

from __future__ import annotations

import pytest

from kubeproof.testing import Kube, unique_name


@pytest.mark.parametrize("run", range(3))  # three tests doing the same thing, maybe on three workers
def test_cluster_scoped_objects_get_unique_names(kube: Kube, run: int) -> None:
    # flaky: "metadata": {"name": "reader", "labels": {"app": "web"}}, then
    #        assert len(kube.list("ClusterRole", label_selector="app=web")) == 1
    kube.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                 "metadata": {"name": unique_name("reader"), "labels": {"app": "web"}}, "rules": []})
    mine = kube.list("ClusterRole", label_selector=f"app=web,{kube.label_selector}")
    assert len(mine) == 1


@pytest.mark.parametrize("run", range(3))
def test_namespaced_objects_go_in_the_tests_own_namespace(kube: Kube, namespace: str, run: int) -> None:
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}})  # into `namespace`
    assert [cm["metadata"]["name"] for cm in kube.list("ConfigMap", label_selector=kube.label_selector)] == [
        "settings"
    ]
    everywhere = kube.list("ConfigMap", all_namespaces=True, label_selector=kube.label_selector)
    assert [cm["metadata"]["namespace"] for cm in everywhere] == [namespace]
