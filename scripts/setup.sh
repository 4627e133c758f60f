#!/usr/bin/env bash
# Set up kubeproof's development environment in .venv (idempotent).
#
#   * creates .venv with the python3 on PATH (or $PYTHON), which must be 3.11+
#   * pip install -e '.[dev]'  (skipped while pyproject.toml is unchanged, see the stamp below)
#   * installs kubectl 1.37 and helm 4 into .venv/bin (scripts/install_tools.py; fast no-op when present)
#   * compiles src/ to bytecode (python -m compileall; fast no-op when up to date)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.kubeproof-setup-stamp"
PYTHON="${PYTHON:-python3}"

die() { echo "setup.sh: error: $*" >&2; exit 1; }
say() { echo "setup.sh: $*" >&2; }

version_ok='import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'

if ! "$VPY" -c "$version_ok" >/dev/null 2>&1; then
    if [[ -x "$VPY" ]] && "$VPY" -c 'pass' >/dev/null 2>&1; then
        die "$VENV uses $("$VPY" -V 2>&1), but kubeproof needs Python 3.11+. Remove it (rm -rf .venv) and rerun with a 3.11+ python3 on PATH (or PYTHON=/path/to/python3.11)."
    fi
    command -v "$PYTHON" >/dev/null 2>&1 \
        || die "'$PYTHON' not found on PATH. Install Python 3.11+ or set PYTHON=/path/to/python3.11."
    "$PYTHON" -c "$version_ok" \
        || die "$PYTHON is $("$PYTHON" -V 2>&1 || true) (too old or broken); kubeproof needs Python 3.11+. Put a newer python3 on PATH or set PYTHON=/path/to/python3.11."
    say "creating $VENV with $("$PYTHON" -V 2>&1)"
    # --clear: a .venv directory whose interpreter no longer runs is rebuilt from scratch.
    "$PYTHON" -m venv --clear "$VENV" \
        || die "'$PYTHON -m venv' failed. On Debian/Ubuntu install the python3-venv package."
    rm -f "$STAMP"
fi

# The stamp records what the installed environment was built from.
want_stamp="$(
    "$VPY" - <<'PY'
import hashlib, pathlib, sys
print(hashlib.sha256(pathlib.Path("pyproject.toml").read_bytes()).hexdigest())
print(sys.version.split()[0])
print(pathlib.Path.cwd())
PY
)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
    say "python packages up to date (pyproject.toml unchanged)"
else
    say "installing kubeproof and its dev dependencies into $VENV"
    rm -f "$STAMP"
    "$VPY" -m pip install --quiet --disable-pip-version-check --upgrade pip \
        || die "upgrading pip failed; check that PyPI (or your PIP_INDEX_URL mirror) is reachable."
    "$VPY" -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
        || die "pip install -e '.[dev]' failed; see the pip output above."
    printf '%s\n' "$want_stamp" > "$STAMP"
fi

"$VPY" scripts/install_tools.py --bin-dir "$VENV/bin" \
    || die "installing kubectl/helm failed; see the message above."

# Bytecode for the package, as installing a wheel compiles it: an editable install has none, and where
# PYTHONDONTWRITEBYTECODE is set nothing ever writes it, so every `kubeproof serve` would compile the
# whole package again (about 0.4 s of its start). Fast when nothing changed.
"$VPY" -m compileall -q -j 0 src >/dev/null \
    || die "compiling src/ to bytecode failed; see the message above."
