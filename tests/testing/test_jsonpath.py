"""kubectl-style JSONPath, with python-jsonpath and with the built-in subset."""

from __future__ import annotations

from typing import Any

import pytest

from kubeproof.testing import jsonpath

POD: dict[str, Any] = {
    "metadata": {"labels": {"app.kubernetes.io/name": "web"}, "generation": 2},
    "status": {
        "phase": "Running",
        "ready": True,
        "replicas": 3,
        "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "False"}],
    },
}

SUBSET = [
    ("{.status.phase}", ["Running"]),
    (".status.phase", ["Running"]),
    ("status.phase", ["Running"]),
    ("{$.status.replicas}", [3]),
    ("{.status.conditions[1].type}", ["Ready"]),
    ("{.status.conditions[-1].status}", ["False"]),
    ("{.metadata.labels.app\\.kubernetes\\.io/name}", ["web"]),
    ("{.metadata.labels['app.kubernetes.io/name']}", ["web"]),
    ("{.status.missing}", []),
    ("{.status.conditions[5]}", []),
    ("{}", [POD]),
]


@pytest.fixture(params=["python-jsonpath", "built-in subset"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "built-in subset":
        monkeypatch.setattr(jsonpath, "_library", None)
    else:
        pytest.importorskip("jsonpath")
    return str(request.param)


@pytest.mark.parametrize(("path", "expected"), SUBSET)
def test_the_subset_reads_the_same_with_either_engine(engine: str, path: str, expected: list[Any]) -> None:
    assert jsonpath.find(path, POD) == expected


def test_filters_need_python_jsonpath() -> None:
    pytest.importorskip("jsonpath")
    assert jsonpath.find('{.status.conditions[?(@.type=="Ready")].status}', POD) == ["False"]
    assert jsonpath.find("{.status.conditions[*].type}", POD) == ["Initialized", "Ready"]


def test_the_subset_refuses_filters_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonpath, "_library", None)
    with pytest.raises(jsonpath.JSONPathError, match="install python-jsonpath"):
        jsonpath.find('{.status.conditions[?(@.type=="Ready")].status}', POD)
    with pytest.raises(jsonpath.JSONPathError, match="unsupported index"):
        jsonpath.find("{.status.conditions[x]}", POD)


def test_matches_compares_values_and_kubectl_renderings(engine: str) -> None:
    assert jsonpath.matches("{.status.phase}", POD, "Running")
    assert jsonpath.matches("{.status.replicas}", POD, 3)
    assert jsonpath.matches("{.status.replicas}", POD, "3")
    assert jsonpath.matches("{.status.ready}", POD, "true")
    assert not jsonpath.matches("{.status.phase}", POD, "Pending")
    assert not jsonpath.matches("{.status.missing}", POD, "")
