#!/usr/bin/env bash
# Run the suite in random order (pytest-randomly) over several seeds, with xdist, and report per seed.
#
#   scripts/order_check.sh                      # seeds 1..20, the whole suite (testpaths)
#   SEEDS="3 17" scripts/order_check.sh tests/testing tests/wire
#   FIRST=1 COUNT=5 scripts/order_check.sh tests/testing
#
# Extra arguments go to pytest (paths, -k, ...). Each seed's output is kept in $LOGDIR (default a
# temporary directory); a failing seed is rerun with the same `-p randomly --randomly-seed=N` to reproduce.
# The exit status is non-zero when any seed failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"

FIRST="${FIRST:-1}"
COUNT="${COUNT:-20}"
SEEDS="${SEEDS:-$(seq "$FIRST" "$((FIRST + COUNT - 1))")}"
WORKERS="${WORKERS:-2}"
LOGDIR="${LOGDIR:-$(mktemp -d "${TMPDIR:-/tmp}/order-check.XXXXXX")}"
mkdir -p "$LOGDIR"

failed_seeds=()
for seed in $SEEDS; do
    log="$LOGDIR/seed-$seed.log"
    started=$(date +%s)
    .venv/bin/python -m pytest -q -p randomly -p xdist -n "$WORKERS" -p no:cacheprovider \
        --randomly-seed="$seed" "$@" >"$log" 2>&1
    status=$?
    took=$(( $(date +%s) - started ))
    summary=$(grep -E '^[=]* ?[0-9]+ (passed|failed|error)|no tests ran' "$log" | tail -1 | tr -d '=')
    if (( status == 0 )); then
        echo "seed $seed: ok (${took}s)${summary:+ -$summary}"
    else
        failed_seeds+=("$seed")
        echo "seed $seed: FAILED, exit $status (${took}s)${summary:+ -$summary}"
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
        echo "    log: $log"
        echo "    rerun: .venv/bin/python -m pytest -p randomly -p xdist -n $WORKERS -p no:cacheprovider --randomly-seed=$seed $*"
    fi
done

total=$(echo "$SEEDS" | wc -w)
if (( ${#failed_seeds[@]} )); then
    echo "order_check: ${#failed_seeds[@]} of $total seed(s) failed: ${failed_seeds[*]} (logs in $LOGDIR)" >&2
    exit 1
fi
echo "order_check: all $total seed(s) passed (logs in $LOGDIR)" >&2
