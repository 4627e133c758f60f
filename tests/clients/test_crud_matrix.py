"""CRUD on every served resource through the official client's dynamic client.

One parametrized test per resource: create (201 with uid, resourceVersion, creationTimestamp), get, list,
update (PUT of the whole object), merge patch, delete, then get answers 404 NotFound.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.resource import ResourceInstance

from kubeproof import Cluster
from kubeproof.controllers import DEFAULT_CONTROLLERS

from ._support import status_body, wait_until
from .manifests import RESOURCES, ResourceCase

pytestmark = pytest.mark.timeout(10)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# This module checks the CRUD wire contract (the same resourceVersion on create and get, a PUT of what was read
# succeeding): the workload controllers, and the kubelet registering a new Node, would write status into the
# objects between those steps, as they do in a real cluster, so they are left out here. Their behaviour is
# tested in tests/controllers.
_WORKLOAD_CONTROLLERS = {"replicaset", "deployment", "job", "cronjob", "statefulset", "daemonset", "node-status"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(controllers=[n for n in DEFAULT_CONTROLLERS if n not in _WORKLOAD_CONTROLLERS]) as c:
        yield c


def _not_found(resource: Any, name: str, namespace: str | None) -> dict[str, Any] | None:
    try:
        resource.get(name=name, namespace=namespace)
    except ApiException as exc:
        if exc.status == 404:
            return status_body(exc)
        raise
    return None


@pytest.mark.parametrize("case", RESOURCES, ids=lambda c: c.id)
def test_crud(case: ResourceCase, cluster: Cluster, dynamic_client: Any, namespace: str) -> None:
    resource = dynamic_client.resources.get(api_version=case.api_version, kind=case.kind)
    assert resource.namespaced == case.namespaced
    ns = namespace if case.namespaced else None
    name = f"crud-{uuid.uuid4().hex[:10]}"
    before = cluster.store.revision

    # create: 201 with server-set metadata
    response = resource.create(body=case.manifest(name, ns), namespace=ns, serialize=False)
    assert response.status == 201
    created = ResourceInstance(resource, json.loads(response.data))
    meta = created.metadata
    assert meta.name == name
    assert meta.namespace == ns
    uuid.UUID(meta.uid)
    assert int(meta.resourceVersion) > before
    assert RFC3339.match(meta.creationTimestamp)
    assert created.kind == case.kind
    assert created.apiVersion == case.api_version
    assert meta.labels["suite"] == "clients"

    # get
    got = resource.get(name=name, namespace=ns)
    assert got.metadata.uid == meta.uid
    assert got.metadata.resourceVersion == meta.resourceVersion

    # list: the item is there; the list carries the current revision
    listed = resource.get(namespace=ns, label_selector="suite=clients")
    assert listed.kind == f"{case.kind}List"
    assert name in [item.metadata.name for item in listed.items]
    assert int(listed.metadata.resourceVersion) >= int(meta.resourceVersion)

    # update (replace the whole object)
    body = got.to_dict()
    body["metadata"]["labels"]["updated"] = "yes"
    replaced = resource.replace(body=body, namespace=ns)
    assert replaced.metadata.labels["updated"] == "yes"
    assert replaced.metadata.uid == meta.uid
    assert int(replaced.metadata.resourceVersion) > int(meta.resourceVersion)
    assert replaced.metadata.creationTimestamp == meta.creationTimestamp

    # patch (JSON merge patch)
    patched = resource.patch(
        name=name,
        namespace=ns,
        body={"metadata": {"labels": {"patched": "yes", "updated": None}}},
        content_type="application/merge-patch+json",
    )
    labels = patched.metadata.labels
    assert labels["patched"] == "yes"
    assert "updated" not in labels
    assert int(patched.metadata.resourceVersion) > int(replaced.metadata.resourceVersion)
    assert resource.get(name=name, namespace=ns).metadata.labels["patched"] == "yes"

    # delete, then 404 (a namespace goes away once the namespace controller has emptied it)
    resource.delete(name=name, namespace=ns)
    status = wait_until(lambda: _not_found(resource, name, ns), what=f"{case.id} {name} to be gone")
    qualified = f"{case.plural}.{case.group}" if case.group else case.plural
    assert status["reason"] == "NotFound"
    assert status["code"] == 404
    assert status["message"] == f'{qualified} "{name}" not found'
    assert status["details"]["name"] == name
    assert status["details"]["kind"] == case.plural
