"""Fixtures for the kubectl tests: one ``kubeproof serve`` subprocess per module, a namespace per test."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ._support import KUBECTL, KUBEPROOF, Served, unique


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``kubeproof serve`` as a user runs it; stopped with Ctrl-C, which must exit 0 and say ``stopped.``."""
    if not KUBECTL.exists() or not KUBEPROOF.exists():
        pytest.skip("kubectl or kubeproof is not in the virtualenv; run `bash scripts/setup.sh`")
    server = Served(tmp_path_factory.mktemp("serve"))
    try:
        yield server
    finally:
        code, out, err = server.stop()
    assert code == 0, f"kubeproof serve exited {code}\nstdout:\n{out}\nstderr:\n{err}"
    assert "stopped." in out.splitlines(), out
    assert not server.kubeconfig.exists(), "the kubeconfig written by --kubeconfig should be removed on exit"


@pytest.fixture
def ns(served: Served) -> Iterator[str]:
    """A namespace of this test alone. Created from a manifest (``kubectl create namespace`` is tested on
    its own); deleted without waiting afterwards."""
    name = unique("ns")
    manifest = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    served.kubectl("create", "-f", "-", input=manifest)
    yield name
    served.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")
