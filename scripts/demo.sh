#!/usr/bin/env bash
# Run the kubeproof demo. Extra arguments go to `python -m kubeproof demo`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

export PATH="$ROOT/.venv/bin:$PATH"
exec "$ROOT/.venv/bin/python" -m kubeproof demo "$@"
