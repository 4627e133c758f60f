"""The ``default`` ServiceAccount and the ``kube-root-ca.crt`` ConfigMap in every namespace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeproof import Cluster
from kubeproof.cluster import SYSTEM_NAMESPACES
from kubeproof.testing import eventually

from ._support import unique


@pytest.fixture(scope="module")
def core(k8s_api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(k8s_api_client)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = unique("sa")
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


def read_sa(core: client.CoreV1Api, ns: str) -> Any:
    return core.read_namespaced_service_account("default", ns)


@pytest.mark.parametrize("namespace", SYSTEM_NAMESPACES)
def test_system_namespaces_have_them(cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    eventually(lambda: read_sa(core, namespace), retry_on=(ApiException,),
               description=f"the default ServiceAccount in {namespace}")
    cm = eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", namespace), retry_on=(ApiException,),
                    description=f"kube-root-ca.crt in {namespace}")
    assert cm.data == {"ca.crt": cluster.ca_pem.decode()}
    assert cm.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")


def test_a_new_namespace_gets_them(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    sa = eventually(lambda: read_sa(core, ns), retry_on=(ApiException,), description="the default ServiceAccount")
    assert sa.metadata.name == "default" and sa.metadata.namespace == ns
    cm = eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns), retry_on=(ApiException,),
                    description="kube-root-ca.crt")
    assert cm.metadata.annotations["kubernetes.io/description"].startswith("Contains a CA bundle")
    out = cluster.kubectl("get", "serviceaccounts", "-n", ns, "-o", "name").stdout.split()
    assert out == ["serviceaccount/default"]


def test_deleted_ones_come_back(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    first = eventually(lambda: read_sa(core, ns), retry_on=(ApiException,), description="the default ServiceAccount")
    cluster.kubectl("delete", "serviceaccount", "default", "-n", ns)
    again = eventually(lambda: read_sa(core, ns), retry_on=(ApiException,),
                       matcher=lambda sa: sa.metadata.uid != first.metadata.uid,
                       description="the default ServiceAccount recreated")
    assert again.metadata.name == "default"
    cm = eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns), retry_on=(ApiException,),
                    description="kube-root-ca.crt")
    core.delete_namespaced_config_map("kube-root-ca.crt", ns)
    eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns), retry_on=(ApiException,),
               matcher=lambda c: c.metadata.uid != cm.metadata.uid, description="kube-root-ca.crt recreated")


def test_an_edited_root_ca_is_put_right(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns), retry_on=(ApiException,),
               description="kube-root-ca.crt")
    core.patch_namespaced_config_map("kube-root-ca.crt", ns, {"data": {"ca.crt": "tampered", "extra": "x"}})
    eventually(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns).data,
               matcher=lambda data: data == {"ca.crt": cluster.ca_pem.decode()},
               description="kube-root-ca.crt restored")


def test_other_service_accounts_are_left_alone(cluster: Cluster, core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service_account(ns, {"metadata": {"name": "builder"}})
    eventually(lambda: read_sa(core, ns), retry_on=(ApiException,), description="the default ServiceAccount")
    core.delete_namespaced_service_account("builder", ns)
    names = [sa.metadata.name for sa in core.list_namespaced_service_account(ns).items]
    assert names == ["default"]


def test_a_deleted_namespace_goes_with_its_account(cluster: Cluster, core: client.CoreV1Api) -> None:
    name = unique("sa-gone")
    core.create_namespace({"metadata": {"name": name}})
    eventually(lambda: read_sa(core, name), retry_on=(ApiException,), description="the default ServiceAccount")
    # kubectl waits until the namespace is gone: the controller must not keep recreating its content.
    cluster.kubectl("delete", "namespace", name, "--timeout=30s")
    with pytest.raises(ApiException) as info:
        core.read_namespace(name)
    assert info.value.status == 404


def test_plain_http_cluster_publishes_no_ca() -> None:
    with Cluster(tls=False, controllers=["serviceaccount"]) as plain:
        api = plain.api_client()
        try:
            core = client.CoreV1Api(api)
            eventually(lambda: read_sa(core, "default"), retry_on=(ApiException,),
                       description="the default ServiceAccount")
            # Both are written in the same reconcile, so the ConfigMap would be there by now.
            names = [cm.metadata.name for cm in core.list_namespaced_config_map("default").items]
            assert "kube-root-ca.crt" not in names
        finally:
            api.close()
