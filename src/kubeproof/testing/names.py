"""Names and labels that no other test, xdist worker or rerun can collide with.

Shared names are the root of ``409 AlreadyExists: object is being deleted``: a test reuses a name while
the previous object still waits on its finalizers. A name from :func:`unique_name` carries the xdist
worker id and random bits, so it is never reused, not even by a rerun of the same test.
"""

from __future__ import annotations

import os
import re
import secrets

#: The label the toolkit puts on every object it creates for a test; the value is the test's id.
TEST_LABEL_KEY = "kubeproof.dev/test"

_MAX_NAME = 63
_RANDOM_CHARS = 8
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def worker_id() -> str:
    """The pytest-xdist worker id (``gw0``, ``gw1``, ...) or ``""`` outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def _random(n: int = _RANDOM_CHARS) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def dns1123_label(text: str, max_length: int = _MAX_NAME) -> str:
    """``text`` made into a DNS-1123 label: lowercase alphanumerics and ``-``, starting and ending
    with an alphanumeric, at most ``max_length`` characters (``"x"`` if nothing usable is left)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:max_length].strip("-")
    return cleaned or "x"


def unique_name(prefix: str = "t") -> str:
    """A DNS-1123 name (at most 63 characters) unique across tests, xdist workers and reruns.

    It is ``<prefix>-<worker>-<8 random characters>``; the prefix is cleaned and shortened to fit.
    ``unique_name("web")`` gives, for example, ``web-gw1-k3x9q0ab`` (or ``web-k3x9q0ab`` outside xdist).
    """
    suffix = "-".join(part for part in (dns1123_label(worker_id()) if worker_id() else "", _random()) if part)
    room = _MAX_NAME - len(suffix) - 1
    return f"{dns1123_label(prefix, room)}-{suffix}"


def label_value_for(nodeid: str) -> str:
    """A label value (at most 63 characters of ``[a-z0-9-]``) naming one run of one test.

    The readable part comes from the end of the test id (the function name and parameters); the worker
    id and random bits make it unique, so objects of a rerun are told apart from the first run's.
    """
    tail = nodeid.rsplit("::", 1)[-1]
    return unique_name(tail or "test")
