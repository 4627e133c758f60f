"""kubectl 1.37, unmodified and with its default settings, against ``kubeproof serve``.

Every command here is one a user types. Waits follow kubectl's own output (or a deadline-bounded poll),
never a sleep. ``kubectl wait`` and the wait inside ``kubectl delete`` use WatchList (client-go's
``WatchListClient`` gate is on by default); the tests check that they do, and that they finish.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._support import Process, Served, unique

pytestmark = pytest.mark.timeout(120)


def _json(proc: Any) -> Any:
    return json.loads(proc.stdout)


def _configmap(served: Served, ns: str, name: str, **extra: Any) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, **extra},
            "data": {"k": "v1"}}
    served.kubectl("create", "-f", "-", input=json.dumps(body))


def _watch_list_established(process: Process) -> str:
    """Follow ``-v=6`` output until the reflector's watch-list has synced; return the watch request line.

    The watch request must be a WatchList request (kubectl's defaults), and "Caches populated" comes after
    the initial-events-end bookmark, so a change made after this returns reaches kubectl as a live event.
    """
    request = process.stderr.wait_for(lambda line: '"Response"' in line and "watch=true" in line)
    assert "sendInitialEvents=true" in request, request
    assert "resourceVersionMatch=NotOlderThan" in request, request
    assert "allowWatchBookmarks=true" in request, request
    assert 'status="200 OK"' in request, request
    process.stderr.wait_for("Caches populated")
    return request


# -- version, discovery, namespaces --------------------------------------------------------------


def test_version_reports_v1_37(served: Served) -> None:
    proc = served.kubectl("version", "-o", "json")
    versions = _json(proc)
    assert versions["serverVersion"]["gitVersion"].startswith("v1.37.")
    assert versions["serverVersion"]["major"] == "1"
    assert versions["serverVersion"]["minor"] == "37"
    assert "WARNING" not in proc.stderr  # no version-skew warning


def test_api_resources_lists_core_and_group_resources(served: Served) -> None:
    proc = served.kubectl("api-resources", "--no-headers")
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.strip()}
    assert rows["configmaps"] == ["configmaps", "cm", "v1", "true", "ConfigMap"]
    assert rows["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["secrets"] == ["secrets", "v1", "true", "Secret"]
    apps = served.kubectl("api-resources", "--api-group=apps", "-o", "name").stdout.split()
    assert "deployments.apps" in apps
    assert "configmaps" not in apps
    assert proc.stderr == ""


def test_get_namespaces_shows_the_system_namespaces(served: Served) -> None:
    names = served.kubectl("get", "ns", "-o", "name").stdout.split()
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert f"namespace/{ns}" in names
    table = served.kubectl("get", "namespaces").stdout.splitlines()
    assert table[0].split()[0] == "NAME"
    assert any(line.split()[0] == "default" for line in table[1:])


def test_create_namespace(served: Served) -> None:
    name = unique("ns")
    # kubectl's generators use the typed client, which sends a protobuf body (reference §0.2).
    proc = served.kubectl("create", "namespace", name)
    assert proc.stdout.strip() == f"namespace/{name} created"
    created = _json(served.kubectl("get", "ns", name, "-o", "json"))
    assert created["status"]["phase"] == "Active"
    assert created["metadata"]["labels"]["kubernetes.io/metadata.name"] == name
    again = served.kubectl("create", "namespace", name, check=False)
    assert again.returncode == 1
    assert f'Error from server (AlreadyExists): namespaces "{name}" already exists' in again.stderr
    served.kubectl("delete", "namespace", name, "--wait=false")


# -- create -f, get -o ---------------------------------------------------------------------------

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  mode: fast
---
apiVersion: v1
kind: Secret
metadata:
  name: credentials
  namespace: {ns}
stringData:
  password: hunter2
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""


def _create_manifest(served: Served, ns: str, tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(MANIFEST.format(ns=ns))
    proc = served.kubectl("create", "-f", str(path))
    assert proc.stdout.splitlines() == [
        "configmap/settings created",
        "secret/credentials created",
        "service/web created",
        "deployment.apps/web created",
    ]


def test_create_from_manifest(served: Served, ns: str, tmp_path: Path) -> None:
    _create_manifest(served, ns, tmp_path)
    cm = _json(served.kubectl("get", "configmap", "settings", "-n", ns, "-o", "json"))
    assert cm["data"] == {"mode": "fast"}
    secret = _json(served.kubectl("get", "secret", "credentials", "-n", ns, "-o", "json"))
    assert secret["type"] == "Opaque"
    assert "stringData" not in secret  # write-only: merged into data on the server
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2"
    service = _json(served.kubectl("get", "service", "web", "-n", ns, "-o", "json"))
    assert service["spec"]["clusterIP"]
    assert service["spec"]["clusterIPs"] == [service["spec"]["clusterIP"]]
    deployment = _json(served.kubectl("get", "deployment", "web", "-n", ns, "-o", "json"))
    assert deployment["metadata"]["generation"] == 1
    assert deployment["spec"]["replicas"] == 2

    again = served.kubectl("create", "-f", str(tmp_path / "app.yaml"), check=False)
    assert again.returncode == 1
    assert f'Error from server (AlreadyExists): error when creating "{tmp_path / "app.yaml"}": ' \
           'configmaps "settings" already exists' in again.stderr


def test_create_with_kubectl_default_validation(served: Served, ns: str, tmp_path: Path) -> None:
    """Without ``--validate=false`` kubectl first reads /openapi (reference §0.3) to check that the server
    validates fields; none of the tests in this file turns that off."""
    path = tmp_path / "app.yaml"
    path.write_text(MANIFEST.format(ns=ns))
    proc = served.kubectl("create", "-f", str(path), check=False)
    assert "failed to download openapi" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 4


def test_get_output_formats(served: Served, ns: str, tmp_path: Path) -> None:
    _create_manifest(served, ns, tmp_path)
    listed = _json(served.kubectl("get", "configmaps,secrets,services,deployments", "-n", ns, "-o", "json"))
    assert listed["kind"] == "List"
    # (every namespace also holds kube-root-ca.crt, published by the root CA controller)
    kinds = sorted((item["kind"], item["metadata"]["name"]) for item in listed["items"]
                   if item["metadata"]["name"] != "kube-root-ca.crt")
    assert kinds == [("ConfigMap", "settings"), ("Deployment", "web"), ("Secret", "credentials"), ("Service", "web")]
    assert all(item["apiVersion"] for item in listed["items"])

    as_yaml = yaml.safe_load(served.kubectl("get", "deployment", "web", "-n", ns, "-o", "yaml").stdout)
    assert as_yaml["kind"] == "Deployment"
    assert as_yaml["apiVersion"] == "apps/v1"
    assert as_yaml["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"

    wide = served.kubectl("get", "configmaps", "-n", ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[0] == "NAME"
    assert [line.split()[0] for line in wide[1:] if not line.startswith("kube-root-ca.crt")] == ["settings"]

    names = served.kubectl("get", "all", "-n", ns, "-o", "name").stdout.split()
    assert "service/web" in names
    assert "deployment.apps/web" in names

    one = served.kubectl("get", "cm", "settings", "-n", ns, "-o", "jsonpath={.data.mode}").stdout
    assert one == "fast"

    missing = served.kubectl("get", "cm", "nope", "-n", ns, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "nope" not found'


# -- label, annotate -----------------------------------------------------------------------------


def test_label_and_annotate(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name)
    assert served.kubectl("label", "cm", name, "-n", ns, "tier=backend").stdout.strip() == \
        f"configmap/{name} labeled"
    assert served.kubectl("annotate", "cm", name, "-n", ns, "owner=team-a").stdout.strip() == \
        f"configmap/{name} annotated"
    selected = served.kubectl("get", "cm", "-n", ns, "-l", "tier=backend", "-o", "name").stdout.split()
    assert selected == [f"configmap/{name}"]
    others = served.kubectl("get", "cm", "-n", ns, "-l", "tier!=backend", "-o", "name").stdout.split()
    assert f"configmap/{name}" not in others

    refused = served.kubectl("label", "cm", name, "-n", ns, "tier=frontend", check=False)
    assert refused.returncode == 1
    assert "already has a value (backend)" in refused.stderr
    served.kubectl("label", "cm", name, "-n", ns, "tier=frontend", "--overwrite")
    served.kubectl("annotate", "cm", name, "-n", ns, "owner-")
    cm = _json(served.kubectl("get", "cm", name, "-n", ns, "-o", "json"))
    assert cm["metadata"]["labels"] == {"tier": "frontend"}
    assert "owner" not in (cm["metadata"].get("annotations") or {})


# -- delete, wait --------------------------------------------------------------------------------


def test_delete_configmap_waits_until_gone(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name)
    proc = served.kubectl("delete", "configmap", name, "-n", ns, "--wait")
    assert proc.stdout.strip() == f'configmap "{name}" deleted from {ns} namespace'
    missing = served.kubectl("get", "configmap", name, "-n", ns, check=False)
    assert missing.returncode == 1
    assert f'configmaps "{name}" not found' in missing.stderr


def test_delete_waits_for_a_finalizer_through_watch_list(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name, finalizers=["example.com/hold"])
    deleting = served.kubectl_bg("delete", "configmap", name, "-n", ns, "--timeout=60s", "-v=6")
    try:
        _watch_list_established(deleting)
        held = _json(served.kubectl("get", "configmap", name, "-n", ns, "-o", "json"))
        assert held["metadata"]["deletionTimestamp"]
        assert deleting.running(), "kubectl delete must wait while the finalizer holds the object"
        served.kubectl("patch", "configmap", name, "-n", ns, "--type=merge",
                       "-p", '{"metadata":{"finalizers":null}}')
        code, out, err = deleting.finish()
    finally:
        deleting.kill()
    assert code == 0, err
    assert f'configmap "{name}" deleted from {ns} namespace' in out


def test_wait_for_delete(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name)
    waiting = served.kubectl_bg("wait", f"configmap/{name}", "-n", ns, "--for=delete", "--timeout=60s", "-v=6")
    try:
        _watch_list_established(waiting)
        assert waiting.running()
        served.kubectl("delete", "configmap", name, "-n", ns, "--wait=false")
        code, out, err = waiting.finish()
    finally:
        waiting.kill()
    assert code == 0, err
    assert out.strip() == f"configmap/{name} condition met"


def test_wait_for_jsonpath_sees_a_later_patch(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name)
    waiting = served.kubectl_bg("wait", f"configmap/{name}", "-n", ns, "--for=jsonpath={.data.k}=v2",
                                "--timeout=60s", "-v=6")
    try:
        _watch_list_established(waiting)
        assert waiting.running(), "the condition is not met yet, so kubectl wait must still be waiting"
        served.kubectl("patch", "configmap", name, "-n", ns, "-p", '{"data":{"k":"v2"}}')
        code, out, err = waiting.finish()
    finally:
        waiting.kill()
    assert code == 0, err
    assert out.strip() == f"configmap/{name} condition met"


def test_wait_times_out_with_kubectl_message(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name)
    proc = served.kubectl("wait", f"configmap/{name}", "-n", ns, "--for=jsonpath={.data.k}=never",
                          "--timeout=1s", check=False)
    assert proc.returncode == 1
    assert f"timed out waiting for the condition on configmaps/{name}" in proc.stderr


# -- get -w --------------------------------------------------------------------------------------


def test_get_watch_prints_a_later_change(served: Served, ns: str) -> None:
    name = unique("cm")
    _configmap(served, ns, name)
    watching = served.kubectl_bg("get", "configmap", name, "-n", ns, "-w", "--output-watch-events", "-v=6",
                                 "-o", "jsonpath={.type} {.object.metadata.name}={.object.data.k}{\"\\n\"}")
    try:
        assert watching.stdout.wait_for(f"{name}=v1") == f"ADDED {name}=v1"  # from the first GET
        request = watching.stderr.wait_for(lambda line: '"Response"' in line and "watch=true" in line)
        assert 'status="200 OK"' in request, request
        served.kubectl("patch", "configmap", name, "-n", ns, "-p", '{"data":{"k":"v2"}}')
        # kubectl watches from resourceVersion=0: if the patch lands before the server has taken the
        # watch's starting state (the response headers are flushed first), the change arrives in that
        # state as ADDED, exactly as kube-apiserver would send it; otherwise as MODIFIED.
        assert watching.stdout.wait_for(f"{name}=v2") in (f"MODIFIED {name}=v2", f"ADDED {name}=v2")
        served.kubectl("delete", "configmap", name, "-n", ns)
        assert watching.stdout.wait_for(lambda line: line.startswith("DELETED")) == f"DELETED {name}=v2"
        assert watching.running()
    finally:
        watching.kill()


def test_get_watch_of_a_collection_prints_new_objects(served: Served, ns: str) -> None:
    first, second = unique("cm"), unique("cm")
    _configmap(served, ns, first)
    watching = served.kubectl_bg("get", "configmaps", "-n", ns, "-w", "-o", "name")
    try:
        watching.stdout.wait_for(f"configmap/{first}")  # from the initial list
        _configmap(served, ns, second)
        watching.stdout.wait_for(f"configmap/{second}")  # from the watch
        assert watching.running()
    finally:
        watching.kill()
