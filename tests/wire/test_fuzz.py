"""Mutated bodies and odd options on every built-in resource: always a Status answer, never a 500, and the
store stays readable. Seeded, so each run sends the same requests (a failure names its seed).

The conftest's autouse guard fails the test on any 500 or internal error the server logs.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from clients.manifests import RESOURCES as CASES
from clients.manifests import ResourceCase

from ._http import API, Response

#: Values of the wrong type, out of range, or odd, put in place of whatever was there.
JUNK: list[Any] = [
    None, True, False, 0, -1, 2**63, -(2**63) - 1, 1.5, 1e308, "", "x", "\u00fc\u0000", "a" * 300, [], [1],
    [None], {}, {"a": 1}, {"": None}, [[[]]], "2026-01-01T00:00:00Z", "-1", "1Gi", {"$retainKeys": 5},
    {"$setElementOrder/x": 3},
]
QUERIES = [
    "", "?dryRun=All", "?fieldValidation=Strict", "?fieldValidation=Warn", "?fieldManager=%00",
    "?labelSelector=a%20in%20(", "?fieldSelector=spec.x=1", "?limit=-1", "?limit=abc", "?continue=garbage",
    "?resourceVersion=-5", "?resourceVersionMatch=Exact", "?gracePeriodSeconds=-3", "?propagationPolicy=Bogus",
    "?force=true", "?pretty=1", "?sendInitialEvents=true",
]
PATCH_TYPES = [
    "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json",
    "application/apply-patch+yaml",
]
OPERATIONS = 100


class Mutator:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def junk(self) -> Any:
        return copy.deepcopy(self.rnd.choice(JUNK))

    def mutate(self, value: Any) -> Any:
        rnd = self.rnd
        if isinstance(value, dict):
            value = dict(value)
            if value and rnd.random() < 0.5:
                key = rnd.choice(list(value))
                roll = rnd.random()
                if roll < 0.2:
                    del value[key]
                elif roll < 0.6:
                    value[key] = self.junk()
                else:
                    value[key] = self.mutate(value[key])
            if rnd.random() < 0.1:
                value[rnd.choice(["spec", "status", "metadata", "x", "kind", "apiVersion", "data"])] = self.junk()
            return value
        if isinstance(value, list):
            value = list(value)
            if value and rnd.random() < 0.5:
                index = rnd.randrange(len(value))
                value[index] = self.mutate(value[index]) if rnd.random() < 0.6 else self.junk()
            if rnd.random() < 0.2:
                value.append(self.junk())
            return value
        return self.junk() if rnd.random() < 0.3 else value

    def body(self, value: Any) -> bytes:
        data = json.dumps(self.mutate(value)).encode()
        if self.rnd.random() < 0.05:
            data = data[: self.rnd.randrange(len(data) + 1)]  # cut short: malformed JSON
        return data


def collection(case: ResourceCase, ns: str) -> str:
    prefix = f"/apis/{case.api_version}" if case.group else "/api/v1"
    return f"{prefix}/namespaces/{ns}/{case.plural}" if case.namespaced else f"{prefix}/{case.plural}"


def check_answer(response: Response, request: str) -> None:
    assert response.status < 500, f"{request} -> {response}"
    if response.status >= 400 and response.content_type == "application/json":
        status = response.json()
        assert status["kind"] == "Status" and status["code"] == response.status, f"{request} -> {response}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_requests_get_status_answers_and_leave_the_store_readable(api: API, ns: str, seed: int) -> None:
    fuzz = Mutator(seed)
    rnd = fuzz.rnd
    touched: set[str] = set()
    for i in range(OPERATIONS):
        case = rnd.choice(CASES)
        name = f"fz{seed}-{i}"
        base = collection(case, ns)
        good = case.manifest(name, ns if case.namespaced else None)
        created = api.post(base, good)
        assert created.status == 201, created
        touched.add(base)
        query = rnd.choice(QUERIES)
        operation = rnd.choice(["create", "update", "status", "patch", "delete", "get", "list"])
        item = f"{base}/{name}"
        if operation == "create":
            variant = copy.deepcopy(good)
            variant["metadata"]["name"] = name + "-b"
            method, path, body, ctype = "POST", base + query, fuzz.body(variant), "application/json"
        elif operation in ("update", "status"):
            path = item + ("/status" if operation == "status" else "")
            method, path, body, ctype = "PUT", path + query, fuzz.body(created.json()), "application/json"
        elif operation == "patch":
            ctype = rnd.choice(PATCH_TYPES)
            if ctype == "application/json-patch+json":
                body = json.dumps([{
                    "op": rnd.choice(["add", "remove", "replace", "move", "copy", "test", "x"]),
                    "path": rnd.choice(["/spec", "/metadata/labels/a", "/spec/-", "/x/0", "", "/metadata/name"]),
                    "value": fuzz.junk(), "from": rnd.choice(["/spec", "/metadata", "/nope"]),
                }]).encode()
            else:
                body = fuzz.body(good)
            method, path = "PATCH", item + query
        elif operation == "delete":
            options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground",
                       "preconditions": {"uid": "x", "resourceVersion": "1"}, "gracePeriodSeconds": 3}
            method, path, body, ctype = "DELETE", item + query, fuzz.body(options), "application/json"
        else:
            method, path, body, ctype = "GET", (item if operation == "get" else base) + query, b"", ""
        response = api.request(method, path, body or None, content_type=ctype or None)
        check_answer(response, f"seed {seed}: {method} {path} {body[:300]!r}")
    # Nothing half-written: every collection lists, and every listed object reads back (the controllers may
    # have written it since, so the uid is compared, not the resourceVersion).
    for base in sorted(touched):
        listed = api.get(base)
        assert listed.status == 200, listed
        for obj in listed.json()["items"]:
            meta = obj["metadata"]
            if not meta["name"].startswith(f"fz{seed}-"):
                continue
            got = api.get(f"{base}/{meta['name']}")
            assert got.status == 200, got
            assert got.json()["metadata"]["uid"] == meta["uid"]
