"""Issue 3's kubectl 1.37 scenario against ``kubeproof serve`` run with default flags, no environment switches.

No ``--validate=false`` anywhere: kubectl validates with the server's OpenAPI, as against a real cluster.
Already covered against ``kubeproof serve`` elsewhere and not repeated here: ``apply --server-side`` with a
conflict and ``--force-conflicts`` (``test_kubectl_apply.py``), ``get -w`` of a ConfigMap with
``--output-watch-events`` (``test_kubectl.py``).
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._support import DEADLINE, KUBECTL, Served, unique, wait_until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def ns(served: Served) -> Iterator[str]:
    """A namespace of this test alone, made with the ``create namespace`` generator."""
    name = unique("ns")
    proc = served.kubectl("create", "namespace", name)
    assert proc.stdout.strip() == f"namespace/{name} created"
    yield name
    served.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def get_json(served: Served, *args: str) -> Any:
    return json.loads(served.kubectl("get", *args, "-o", "json").stdout)


def manifests(ns: str, *, replicas: int = 2, image: str = "nginx:1.25", mode: str = "fast",
              port: int = 80) -> str:
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": image,
                                                  "ports": [{"containerPort": 8080}]}]}},
        },
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": ns},
              "data": {"mode": mode}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": port, "targetPort": 8080}]}}
    return yaml.safe_dump_all([deployment, config, service])


def write(tmp_path: Path, text: str, name: str = "app.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_apply_create_change_reapply_then_delete(served: Served, ns: str, tmp_path: Path) -> None:
    path = write(tmp_path, manifests(ns))
    proc = served.kubectl("apply", "-f", path)
    assert proc.stdout.splitlines() == ["deployment.apps/web created", "configmap/settings created",
                                        "service/web created"]
    assert served.kubectl("apply", "-f", path).stdout.splitlines() == [
        "deployment.apps/web unchanged", "configmap/settings unchanged", "service/web unchanged",
    ]
    path = write(tmp_path, manifests(ns, replicas=3, image="nginx:1.26", mode="slow", port=81))
    proc = served.kubectl("apply", "-f", path)
    assert proc.stdout.splitlines() == ["deployment.apps/web configured", "configmap/settings configured",
                                        "service/web configured"]
    deployment = get_json(served, "deployment", "web", "-n", ns)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert deployment["metadata"]["generation"] == 2
    assert get_json(served, "configmap", "settings", "-n", ns)["data"] == {"mode": "slow"}
    service = get_json(served, "service", "web", "-n", ns)
    assert [p["port"] for p in service["spec"]["ports"]] == [81]
    assert service["spec"]["clusterIP"]  # allocated on create, kept by the apply patch
    # delete -f removes what the file names.
    proc = served.kubectl("delete", "-f", path)
    assert proc.stdout.splitlines() == ['deployment.apps "web" deleted from ' + ns + " namespace",
                                        'configmap "settings" deleted from ' + ns + " namespace",
                                        'service "web" deleted from ' + ns + " namespace"]
    gone = served.kubectl("get", "deployment/web", "configmap/settings", "service/web", "-n", ns, check=False)
    assert gone.returncode == 1
    assert gone.stderr.splitlines() == [
        'Error from server (NotFound): deployments.apps "web" not found',
        'Error from server (NotFound): configmaps "settings" not found',
        'Error from server (NotFound): services "web" not found',
    ]


def test_diff_exits_1_with_a_diff_and_0_without(served: Served, ns: str, tmp_path: Path) -> None:
    path = write(tmp_path, manifests(ns))
    served.kubectl("apply", "-f", path)
    # The ConfigMap and Service only: the Deployment's controller may write its status between kubectl's
    # read of the live object and its dry run, which is a real difference.
    steady = write(tmp_path, "---\n".join(manifests(ns).split("---\n")[1:]), "steady.yaml")
    same = served.kubectl("diff", "-f", steady, check=False)
    assert (same.returncode, same.stdout, same.stderr) == (0, "", "")
    changed = write(tmp_path, manifests(ns, replicas=5, mode="slow"), "changed.yaml")
    proc = served.kubectl("diff", "-f", changed, check=False)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "-  replicas: 2" in lines and "+  replicas: 5" in lines
    assert "-  mode: fast" in lines and "+  mode: slow" in lines
    # The generation a server-side dry run would give is part of the diff; nothing was stored.
    assert "-  generation: 1" in lines and "+  generation: 2" in lines
    assert get_json(served, "deployment", "web", "-n", ns)["spec"]["replicas"] == 2
    assert get_json(served, "configmap", "settings", "-n", ns)["data"] == {"mode": "fast"}


def test_patch_strategic_merge_and_json(served: Served, ns: str, tmp_path: Path) -> None:
    served.kubectl("apply", "-f", write(tmp_path, manifests(ns)))
    proc = served.kubectl("patch", "deployment", "web", "-n", ns, "--type", "strategic", "-p",
                          json.dumps({"spec": {"template": {"spec": {"containers": [
                              {"name": "sidecar", "image": "busybox"}]}}}}))
    assert proc.stdout.strip() == "deployment.apps/web patched"
    containers = get_json(served, "deployment", "web", "-n", ns)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["sidecar", "web"]  # merged by name, the patch's first
    served.kubectl("patch", "deployment", "web", "-n", ns, "--type", "merge", "-p",
                   json.dumps({"spec": {"template": {"spec": {"containers": [
                       {"name": "only", "image": "busybox"}]}}}}))
    containers = get_json(served, "deployment", "web", "-n", ns)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["only"]  # a merge patch replaces the list
    served.kubectl("patch", "deployment", "web", "-n", ns, "--type", "json", "-p", json.dumps([
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "busybox:2"},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "front"}},
    ]))
    deployment = get_json(served, "deployment", "web", "-n", ns)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    assert deployment["metadata"]["labels"] == {"tier": "front"}
    unchanged = served.kubectl("patch", "configmap", "settings", "-n", ns, "--type", "merge", "-p",
                               '{"data":{"mode":"fast"}}')
    assert unchanged.stdout.strip() == "configmap/settings patched (no change)"
    failed = served.kubectl("patch", "configmap", "settings", "-n", ns, "--type", "json", "-p",
                            '[{"op":"test","path":"/data/mode","value":"slow"}]', check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        "The request is invalid: the server rejected our request due to an error in our request"
    )


def test_edit_with_an_editor_script(served: Served, ns: str, tmp_path: Path) -> None:
    served.kubectl("apply", "-f", write(tmp_path, manifests(ns)))
    editor = tmp_path / "editor.py"
    # kubectl runs $EDITOR with the temporary file as its last argument.
    editor.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "path = sys.argv[-1]\n"
        "text = open(path).read()\n"
        "assert '  mode: fast' in text, text\n"
        "open(path, 'w').write(text.replace('  mode: fast', '  mode: edited'))\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in served.env.items() if k != "KUBE_EDITOR"}
    env["EDITOR"] = str(editor)
    proc = subprocess.run([str(KUBECTL), "edit", "configmap", "settings", "-n", ns], env=env, capture_output=True,
                          text=True, timeout=DEADLINE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "configmap/settings edited"
    assert get_json(served, "configmap", "settings", "-n", ns)["data"] == {"mode": "edited"}


def test_scale(served: Served, ns: str, tmp_path: Path) -> None:
    served.kubectl("apply", "-f", write(tmp_path, manifests(ns)))
    proc = served.kubectl("scale", "deployment/web", "-n", ns, "--replicas=4")
    assert proc.stdout.strip() == "deployment.apps/web scaled"
    deployment = get_json(served, "deployment", "web", "-n", ns, "--show-managed-fields")
    assert deployment["spec"]["replicas"] == 4
    owners = [(e["manager"], e["operation"], e.get("subresource")) for e in deployment["metadata"]["managedFields"]
              if "f:replicas" in e["fieldsV1"].get("f:spec", {})]
    assert owners == [("kubectl", "Update", "scale")]
    stale = served.kubectl("scale", "deployment/web", "-n", ns, "--replicas=5", "--resource-version=1",
                           check=False)
    assert stale.returncode == 1
    # kubectl compares the Scale's resourceVersion itself before it writes.
    expected = r"error: Expected resource version to be 1, was [1-9][0-9]*"
    assert re.fullmatch(expected, stale.stderr.strip()), stale.stderr

    def scale_at_current_version() -> bool:
        # The Deployment controller's status writes move the resourceVersion too: retry with a fresh one.
        current = get_json(served, "deployment", "web", "-n", ns)["metadata"]["resourceVersion"]
        proc = served.kubectl("scale", "deployment/web", "-n", ns, "--replicas=5", f"--resource-version={current}",
                              check=False)
        assert proc.returncode == 0 or "Expected resource version" in proc.stderr, proc.stderr
        return proc.returncode == 0

    wait_until(scale_at_current_version, what="a scale with a current --resource-version")
    precondition = served.kubectl("scale", "deployment/web", "-n", ns, "--replicas=6", "--current-replicas=2",
                                  check=False)
    assert precondition.returncode == 1
    assert precondition.stderr.strip() == (
        "error: Expected replicas to be 2, was 5"
    )
    scale = json.loads(served.kubectl("get", "deployment/web", "-n", ns, "--subresource=scale", "-o", "json").stdout)
    assert scale["kind"] == "Scale" and scale["spec"] == {"replicas": 5}
    # status.replicas is the Deployment's, which its controller moves on its own.
    assert scale["status"]["selector"] == "app=web" and isinstance(scale["status"]["replicas"], int)
    table = served.kubectl("get", "deployment/web", "-n", ns, "--subresource=scale").stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "AVAILABLE", "AGE"]
    assert table[1].split()[:2] == ["web", "5"]


def test_set_image(served: Served, ns: str, tmp_path: Path) -> None:
    served.kubectl("apply", "-f", write(tmp_path, manifests(ns)))
    proc = served.kubectl("set", "image", "deployment/web", "web=nginx:1.27", "-n", ns)
    assert proc.stdout.strip() == "deployment.apps/web image updated"
    deployment = get_json(served, "deployment", "web", "-n", ns)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    missing = served.kubectl("set", "image", "deployment/web", "nope=nginx", "-n", ns, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'error: unable to find container named "nope"'


def test_get_table_and_watch_print_a_later_change(served: Served, ns: str, tmp_path: Path) -> None:
    served.kubectl("apply", "-f", write(tmp_path, manifests(ns)))
    rows = [line.split() for line in served.kubectl("get", "deployments", "-n", ns).stdout.splitlines()]
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows[1][0] == "web" and rows[1][1].endswith("/2")  # ready count: up to the controllers
    services = [line.split() for line in served.kubectl("get", "svc", "-n", ns).stdout.splitlines()]
    assert services[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert services[1][:2] == ["web", "ClusterIP"] and services[1][3:5] == ["<none>", "80/TCP"]
    watching = served.kubectl_bg("get", "deployments", "-n", ns, "-w")
    try:
        assert watching.stdout.wait_for("NAME").split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        assert watching.stdout.wait_for("web").split()[1].endswith("/2")
        served.kubectl("scale", "deployment/web", "-n", ns, "--replicas=7")
        assert watching.stdout.wait_for(lambda line: "/7 " in line).split()[0] == "web"
        assert watching.running()
    finally:
        watching.kill()


def test_explain_deployment_spec(served: Served) -> None:
    out = served.kubectl("explain", "deployment.spec").stdout
    lines = out.splitlines()
    assert lines[:2] == ["GROUP:      apps", "KIND:       Deployment"]
    assert "VERSION:    v1" in lines
    assert "FIELD: spec <DeploymentSpec>" in lines
    assert "  replicas\t<integer>" in lines
    assert "  selector\t<LabelSelector> -required-" in lines
    assert "  template\t<PodTemplateSpec> -required-" in lines
    nested = served.kubectl("explain", "deployment.spec.template.spec.containers.ports").stdout
    assert "FIELD: ports <[]ContainerPort>" in nested.splitlines()
    assert "  containerPort\t<integer> -required-" in nested.splitlines()
    unknown = served.kubectl("explain", "deployment.spec.nope", check=False)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == 'error: field "nope" does not exist'


def test_create_generators(served: Served, ns: str) -> None:
    proc = served.kubectl("create", "configmap", "cfg", "-n", ns, "--from-literal=a=1", "--from-literal=b=2")
    assert proc.stdout.strip() == "configmap/cfg created"
    assert get_json(served, "configmap", "cfg", "-n", ns)["data"] == {"a": "1", "b": "2"}
    proc = served.kubectl("create", "secret", "generic", "creds", "-n", ns, "--from-literal=user=admin")
    assert proc.stdout.strip() == "secret/creds created"
    secret = get_json(served, "secret", "creds", "-n", ns)
    assert secret["type"] == "Opaque" and secret["data"] == {"user": "YWRtaW4="}
    proc = served.kubectl("create", "secret", "docker-registry", "pull", "-n", ns, "--docker-server=r.example",
                          "--docker-username=u", "--docker-password=p")
    assert proc.stdout.strip() == "secret/pull created"
    assert get_json(served, "secret", "pull", "-n", ns)["type"] == "kubernetes.io/dockerconfigjson"
    proc = served.kubectl("create", "deployment", "api", "-n", ns, "--image=nginx:1.25", "--replicas=2",
                          "--port=8080")
    assert proc.stdout.strip() == "deployment.apps/api created"
    deployment = get_json(served, "deployment", "api", "-n", ns)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "api"}}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["ports"]) == (
        "nginx", "nginx:1.25", [{"containerPort": 8080, "protocol": "TCP"}])
    again = served.kubectl("create", "configmap", "cfg", "-n", ns, check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == 'error: failed to create configmap: configmaps "cfg" already exists'
    dry = served.kubectl("create", "namespace", unique("dry"), "--dry-run=server", "-o", "name")
    name = dry.stdout.strip().removeprefix("namespace/")
    assert served.kubectl("get", "namespace", name, check=False).returncode == 1
