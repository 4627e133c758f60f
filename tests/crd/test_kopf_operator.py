"""A kopf operator runs unchanged against the embedded server: create -> handler -> status patched ->
delete waits for kopf's finalizer -> object gone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.testing import eventually

from ._crds import create_crd, delete_crd, unique_group, widget_crd

kopf = pytest.importorskip("kopf")

KOPF_FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"


def operator_crd(group: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                      "color": {"type": "string"}}},
            # kopf keeps handler results and progress in status: kopf's docs ask for preserve-unknown-fields.
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return widget_crd(group, versions=[{"name": "v1", "served": True, "storage": True,
                                        "schema": {"openAPIV3Schema": schema}, "subresources": {"status": {}}}])


class Operator:
    """kopf.operator() on its own loop in a thread, stopped through its stop flag."""

    def __init__(self, registry: Any, namespace: str) -> None:
        self.registry = registry
        self.namespace = namespace
        self.stop_flag = threading.Event()
        self.ready_flag = threading.Event()
        self.error: BaseException | None = None
        self.settings = kopf.OperatorSettings()
        self.settings.watching.server_timeout = 10
        self.settings.networking.request_timeout = 15
        self.thread = threading.Thread(target=self._run, name="kopf-operator", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(kopf.operator(registry=self.registry, settings=self.settings, standalone=True,
                                      namespaces=[self.namespace], stop_flag=self.stop_flag,
                                      ready_flag=self.ready_flag))
        except BaseException as exc:  # reported by the test, never swallowed
            self.error = exc

    def __enter__(self) -> Operator:
        self.thread.start()
        assert self.ready_flag.wait(timeout=30), "kopf did not get ready"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=30)
        # kopf runs sync handlers in an executor of its own settings, which it does not shut down.
        self.settings.execution.executor.shutdown(wait=True)
        assert not self.thread.is_alive(), "kopf did not stop"


@pytest.fixture
def group(cluster: Cluster) -> Iterator[str]:
    name = unique_group()
    create_crd(cluster, operator_crd(name))
    yield name
    delete_crd(cluster, f"widgets.{name}")


def test_kopf_operator_create_status_finalizer_delete(cluster: Cluster, group: str, namespace: str,
                                                      k8s_api_client: Any) -> None:
    from .kopf_widgets import build_registry

    release = threading.Event()
    registry = build_registry(group, cluster.url, cluster.token, cluster.ca_pem or None, release)
    objects = client.CustomObjectsApi(k8s_api_client)
    before = {t.ident for t in threading.enumerate()}
    with Operator(registry, namespace) as operator:
        objects.create_namespaced_custom_object(group, "v1", namespace, "widgets", {
            "apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w1"},
            "spec": {"replicas": 3, "color": "red"}})

        def handled() -> dict[str, Any]:
            obj: dict[str, Any] = objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w1")
            status = obj.get("status") or {}
            assert status.get("phase") == "Ready", obj
            assert status.get("created") == {"message": "hello w1"}, obj
            return obj

        obj = eventually(handled, timeout=30, description="kopf's create handler patched status")
        assert obj["status"]["replicas"] == 3
        assert KOPF_FINALIZER in obj["metadata"]["finalizers"]
        assert obj["metadata"]["generation"] == 1  # status went through /status: no spec change

        objects.delete_namespaced_custom_object(group, "v1", namespace, "widgets", "w1")

        def held() -> None:
            current = objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w1")
            assert current["metadata"].get("deletionTimestamp")
            assert KOPF_FINALIZER in current["metadata"]["finalizers"]

        eventually(held, description="the delete is held by kopf's finalizer")
        release.set()

        def gone() -> None:
            try:
                objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w1")
            except ApiException as exc:
                assert exc.status == 404
                return
            raise AssertionError("w1 still exists")

        eventually(gone, timeout=30, description="kopf removed its finalizer and the object went")
        assert operator.error is None
    assert operator.error is None
    leaked = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not [t for t in leaked if t.name.startswith("kopf")], leaked
