#!/usr/bin/env bash
# Lint, type-check and test kubeproof. Extra arguments go to pytest.
# Every check runs even if an earlier one fails; the exit status is non-zero if any failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

# Tests find kubectl and helm (installed into .venv/bin) on PATH.
export PATH="$ROOT/.venv/bin:$PATH"
BIN="$ROOT/.venv/bin"

failed=()
run() {
    local name="$1"; shift
    echo "==> $name" >&2
    if ! "$@"; then failed+=("$name"); fi
}

run "ruff check" "$BIN/ruff" check src tests scripts examples
run "mypy" "$BIN/mypy"
run "pytest" "$BIN/pytest" -n 2 "$@"

if (( ${#failed[@]} )); then
    echo "test.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "test.sh: all checks passed" >&2
