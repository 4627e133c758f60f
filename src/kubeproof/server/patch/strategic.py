"""Strategic merge patch for built-in types (``apimachinery/pkg/util/strategicpatch``).

Hook only for now: applied as a JSON merge patch (no list merge keys, no directives).
"""

from __future__ import annotations

from typing import Any

from kubeproof.server.patch import merge_patch
from kubeproof.server.schema import Schema


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    """Apply ``patch`` to ``original``; ``schema`` is the kind's definition (see ``server/schema.py``)."""
    result: dict[str, Any] = merge_patch(original, patch)
    return result
