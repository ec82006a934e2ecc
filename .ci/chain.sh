#!/usr/bin/env bash
# CI for the on-chain layer. `.ci/run` sources this after installing the Python package; it
# can also be run on its own (`bash .ci/chain.sh`), which then runs the chain tests too.
#  1. `npm ci` in contracts/: the pinned solcjs and the pinned anvil (@foundry-rs/anvil-linux-amd64).
#  2. Rebuild chain/artifacts and fail if they differ from the committed ones.
#  3. Export ALEF_ANVIL_BIN and ALEF_REQUIRE_ANVIL=1: from here on, tests marked `anvil` run
#     against that binary and fail (never skip) if it cannot be used.
# Written to be sourced: no `exit`, no `cd` or `set` that leaks into the caller.

alef_chain_ci() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    echo "chain: npm ci (solc, anvil)"
    (cd "$root/contracts" && npm ci --no-audit --no-fund --loglevel=error) || return 1

    echo "chain: rebuilding contracts and comparing with the committed artifacts"
    (cd "$root/contracts" && node build.js) || return 1
    if ! git -C "$root" diff --exit-code --stat -- chain/artifacts; then
        echo "chain: chain/artifacts differ from a rebuild: run 'cd contracts && npm ci && node build.js' and commit" >&2
        return 1
    fi
    if [ -n "$(git -C "$root" status --porcelain -- chain/artifacts)" ]; then
        echo "chain: the rebuild produced artifacts that are not committed:" >&2
        git -C "$root" status --porcelain -- chain/artifacts >&2
        return 1
    fi

    local anvil="$root/contracts/node_modules/.bin/anvil"
    if ! "$anvil" --version >/dev/null; then
        echo "chain: anvil from npm does not run ($anvil)" >&2
        return 1
    fi
    export ALEF_ANVIL_BIN="$anvil"
    export ALEF_REQUIRE_ANVIL=1
    echo "chain: $("$anvil" --version | head -n 1) at $ALEF_ANVIL_BIN"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    # Run directly: check, then run the chain tests with anvil required.
    set -euo pipefail
    alef_chain_ci
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    python="${PYTHON:-.venv/bin/python}"
    "$python" -m pytest tests/chain -q
else
    alef_chain_ci || return 1
fi
