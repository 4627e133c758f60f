"""Patch types: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.

Mirrors ``apiserver/pkg/endpoints/handlers/patch.go``: which media types a resource accepts, and how each
failure maps to a Status (a failed JSON patch is 422 with a fixed message; undecodable patches are 400).
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import orjson

from kubeproof.server import errors

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

BUILTIN_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH]
CUSTOM_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
MAX_JSON_PATCH_OPERATIONS = 10000
JSON_PATCH_FAILED = "the server rejected our request due to an error in our request"

Obj = dict[str, Any]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_json_patch(original: Obj, body: bytes) -> Obj:
    try:
        operations = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(str(exc)) from None
    if not isinstance(operations, list):
        raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise errors.request_entity_too_large(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
            f"got {len(operations)}"
        )
    try:
        patch = jsonpatch.JsonPatch(operations)
        result = patch.apply(original)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, IndexError):
        raise errors.StatusError(422, "Invalid", JSON_PATCH_FAILED) from None
    if not isinstance(result, dict):
        raise errors.StatusError(422, "Invalid", JSON_PATCH_FAILED)
    return result


def decode_object_patch(body: bytes) -> Obj:
    try:
        patch = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(str(exc)) from None
    if not isinstance(patch, dict):
        raise errors.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    return patch
