"""Fixtures for the wire tests: a plain-HTTP embedded cluster per module, raw HTTP, a namespace per test.

Every wire test also checks that the server never answered 500 and never logged an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from kubeproof import Cluster

from ._http import API, unique


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """An embedded API server over plain HTTP (so the tests see the bytes), one per test module."""
    with Cluster(tls=False) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> API:
    return API(cluster.host, cluster.port, cluster.token)


@pytest.fixture
def ns(api: API) -> Iterator[str]:
    """A namespace of this test alone, deleted (not awaited) afterwards."""
    name = unique("ns")
    api.create_namespace(name)
    yield name
    api.delete(f"/api/v1/namespaces/{name}")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "known_internal_errors: the test may see 500s (a known server gap it documents as xfail)"
    )


@pytest.fixture(autouse=True)
def no_internal_errors(api: API, request: pytest.FixtureRequest) -> Iterator[None]:
    """No 500 answer and no internal error logged by the server during the test."""
    if request.node.get_closest_marker("known_internal_errors"):
        yield
        return
    start = len(api.responses)
    handler = _Collect()
    logger = logging.getLogger("kubeproof.server")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    errors = [r for r in api.responses[start:] if r[2] == 500]
    assert not errors, f"the server answered 500: {errors}"
    assert not handler.records, "the server logged internal errors:\n" + "\n".join(
        h.getMessage() for h in handler.records
    )
