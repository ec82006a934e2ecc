"""The embedded chain is shared through its data dir: by processes in turn, and at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import chain
from chain.embedded.provider import STORE_FILE

# Runs in a child process: argv = data_dir, action, [token, identity_registry].
CHILD = """
import json, sys
import chain
data_dir, action = sys.argv[1], sys.argv[2]
holder = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
with chain.connect(data_dir=data_dir) as client:
    if action == "deploy":
        suite = client.deploy_suite("Shared", "SHR", 0)
        client.register_identity(suite.identity_registry, holder, 840)
        receipt = client.mint(suite.token, holder, 10)
        print(json.dumps({"token": suite.token, "mint_tx": receipt.tx_hash}))
    elif action == "mint":
        token, count = sys.argv[3], int(sys.argv[4])
        before = client.balance_of(token, holder)
        hashes = [client.mint(token, holder, 1).tx_hash for _ in range(count)]
        print(json.dumps({"balance_before": before, "hashes": hashes}))
"""


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _result(process: subprocess.Popen[str]) -> dict:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    return json.loads(stdout)


def test_processes_in_turn_see_each_others_transactions(tmp_path: Path) -> None:
    deployed = _result(_child(str(tmp_path), "deploy"))
    assert (tmp_path / STORE_FILE).is_file()
    second = _result(_child(str(tmp_path), "mint", deployed["token"], "2"))
    assert second["balance_before"] == 10  # the first process's mint, seen by the second
    with chain.connect(data_dir=tmp_path) as client:  # and both seen by a third
        assert client.balance_of(deployed["token"], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8") == 12
        receipt = client.receipt_of(deployed["mint_tx"])
        assert receipt is not None and receipt.succeeded


def test_processes_at_once_share_the_chain_and_the_signer(tmp_path: Path) -> None:
    token = _result(_child(str(tmp_path), "deploy"))["token"]
    runs = [_child(str(tmp_path), "mint", token, "6") for _ in range(3)]
    hashes = [h for run in runs for h in _result(run)["hashes"]]
    assert len(set(hashes)) == 18  # same key in three processes: nonce conflicts were retried
    with chain.connect(data_dir=tmp_path) as client:
        assert client.total_supply(token) == 10 + 18
        assert all(client.receipt_of(h) is not None for h in hashes)


def test_state_survives_closing_and_reopening(tmp_path: Path) -> None:
    with chain.connect(data_dir=tmp_path) as client:
        suite = client.deploy_suite("Again", "AGN", 2)
        block = client.block_number()
    with chain.connect(data_dir=tmp_path) as reopened:
        assert reopened.block_number() == block
        assert reopened.decimals(suite.token) == 2
        assert reopened.chain_id == chain.EMBEDDED_CHAIN_ID
