"""unique_name and the test label: DNS-1123 safe, unique across workers and reruns."""

from __future__ import annotations

import re

import pytest

from kubeproof.testing import unique_name
from kubeproof.testing.names import dns1123_label, label_value_for

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def test_unique_name_is_a_dns1123_label_with_random_bits() -> None:
    names = {unique_name("web") for _ in range(2000)}
    assert len(names) == 2000
    for name in names:
        assert DNS1123_LABEL.match(name), name
        assert name.startswith("web-")


@pytest.mark.parametrize("prefix", ["A_Very Long/Prefix." * 10, "---", "", "Ünïcode", "x" * 63])
def test_awkward_prefixes_still_give_valid_names(prefix: str) -> None:
    name = unique_name(prefix)
    assert len(name) <= 63
    assert DNS1123_LABEL.match(name), name


def test_the_xdist_worker_is_part_of_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    assert re.match(r"^ns-gw7-[a-z0-9]{8}$", unique_name("ns"))
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert re.match(r"^ns-[a-z0-9]{8}$", unique_name("ns"))


def test_dns1123_label_cleans_text() -> None:
    assert dns1123_label("Hello_World--42-") == "hello-world-42"
    assert dns1123_label("!!!") == "x"
    assert len(dns1123_label("a" * 100)) == 63


def test_label_value_names_the_test_and_differs_per_run() -> None:
    nodeid = "tests/test_x.py::test_something[param-1]"
    first, second = label_value_for(nodeid), label_value_for(nodeid)
    assert first != second
    assert first.startswith("test-something-param-1-")
    for value in (first, second, label_value_for("t::" + "long_name" * 20)):
        assert len(value) <= 63 and LABEL_VALUE.match(value), value
