def test_smoke(kube, namespace):
    cm = kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert cm["metadata"]["namespace"] == namespace
