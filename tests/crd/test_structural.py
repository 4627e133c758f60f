"""The structural-schema validator and defaulter on their own (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeproof.server.crd.structural import apply_defaults, pruning_schema, validate


def spec_schema(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"spec": {"type": "object", "properties": props}}}


def messages(obj: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate(obj, schema)]


def test_junctors() -> None:
    schema = spec_schema(x={"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 1}], "not": {"minimum": 3}},
                         y={"type": "string", "oneOf": [{"minLength": 1}, {"maxLength": 3}]})
    assert messages({"spec": {"x": 5, "y": "a"}}, schema) == [
        'spec.x: Invalid value: "": "spec.x" must validate at least one schema (anyOf)',
        'spec.x: Invalid value: "": "spec.x" must not validate the schema (not)',
        'spec.y: Invalid value: "": "spec.y" must validate one and only one schema (oneOf). Found 2 valid '
        "alternatives",
    ]
    assert messages({"spec": {"x": 0, "y": "abcd"}}, schema) == []


@pytest.mark.parametrize(("fmt", "good", "bad"), [
    ("date-time", "2024-02-29T10:00:00.5+01:00", "2024-02-30T10:00:00Z"),
    ("date", "2024-02-29", "2023-02-29"),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
    ("ipv4", "10.0.0.1", "10.0.0.256"),
    ("ipv6", "::1", "10.0.0.1"),
    ("cidr", "10.0.0.0/8", "10.0.0.0"),
    ("byte", "aGVsbG8=", "not base64!"),
    ("duration", "1h30m", "soon"),
])
def test_string_formats(fmt: str, good: str, bad: str) -> None:
    schema = spec_schema(v={"type": "string", "format": fmt})
    assert messages({"spec": {"v": good}}, schema) == []
    assert messages({"spec": {"v": bad}}, schema) == [
        f'spec.v: Invalid value: "{bad}": spec.v in body must be of type {fmt}: "{bad}"']


def test_numbers_and_properties() -> None:
    schema = spec_schema(
        n={"type": "number", "exclusiveMinimum": True, "minimum": 0, "multipleOf": 0.5},
        i={"type": "integer", "format": "int32"},
        m={"type": "object", "maxProperties": 1, "minProperties": 1, "additionalProperties": {"type": "integer"}},
        s={"type": "array", "minItems": 1, "items": {"type": "string"}},
    )
    assert messages({"spec": {"n": 0, "i": 2**31, "m": {"a": 1, "b": "x"}, "s": []}}, schema) == [
        "spec.i: Invalid value: 2147483648: spec.i in body must be of type int32",
        "spec.m: Too many: 2: must have at most 1 items",
        'spec.m.b: Invalid value: "string": spec.m.b in body must be of type integer: "string"',
        "spec.n: Invalid value: 0: spec.n in body should be greater than 0",
        "spec.s: Invalid value: 0: spec.s in body should have at least 1 items",
    ]
    assert messages({"spec": {"n": 1.5, "i": 7, "m": {"a": 1}, "s": ["x"]}}, schema) == []


def test_defaults_are_applied_recursively() -> None:
    schema = spec_schema(
        a={"type": "integer", "default": 1},
        nested={"type": "object", "default": {}, "properties": {"b": {"type": "string", "default": "x"}}},
        items={"type": "array", "items": {"type": "object", "properties": {"c": {"type": "boolean",
                                                                               "default": True}}}},
        keep={"type": "string", "nullable": True, "default": "d"},
    )
    obj: dict[str, Any] = {"spec": {"items": [{}, {"c": False}], "keep": None}}
    apply_defaults(obj, schema)
    assert obj == {"spec": {"a": 1, "nested": {"b": "x"}, "items": [{"c": True}, {"c": False}], "keep": None}}


def test_pruning_schema_types_metadata_and_empty_objects() -> None:
    pruned = pruning_schema(spec_schema(o={"type": "object"}, free={"type": "object",
                                                                    "x-kubernetes-preserve-unknown-fields": True}))
    assert pruned["properties"]["metadata"] == {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    spec = pruned["properties"]["spec"]["properties"]
    assert spec["o"]["properties"] == {}
    assert "properties" not in spec["free"]
