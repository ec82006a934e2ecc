"""The anvil helper that `alefctl chain node` uses: finding the binary, state kept in a directory."""

from __future__ import annotations

from pathlib import Path

import pytest

import chain
from chain.anvil import ANVIL_STATE_FILE


def test_find_anvil_honours_alef_anvil_bin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("ALEF_ANVIL_BIN", str(fake))
    assert chain.find_anvil() == fake
    monkeypatch.setenv("ALEF_ANVIL_BIN", str(tmp_path / "missing"))
    assert chain.find_anvil() is None
    with pytest.raises(chain.AnvilNotFound, match="npm install @foundry-rs/anvil-linux-amd64"):
        chain.require_anvil()


def test_anvil_command_keeps_state_in_the_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("ALEF_ANVIL_BIN", str(fake))
    argv = chain.anvil_command(tmp_path / "chain", port=8600)
    assert argv[0] == str(fake) and "--port" in argv and argv[argv.index("--port") + 1] == "8600"
    assert argv[argv.index("--state") + 1] == str(tmp_path / "chain" / ANVIL_STATE_FILE)


@pytest.mark.anvil
def test_anvil_node_state_survives_a_restart(anvil_binary: Path, tmp_path: Path) -> None:
    with chain.start_anvil(tmp_path) as node, chain.connect(rpc_url=node.url) as client:
        suite = client.deploy_suite("Kept", "KPT", 0)
    assert (tmp_path / ANVIL_STATE_FILE).is_file()
    with chain.start_anvil(tmp_path) as node, chain.connect(rpc_url=node.url) as client:
        assert client.symbol(suite.token) == "KPT"
        token_tx = suite.steps[2].tx_hash
        assert token_tx is not None and client.receipt_of(token_tx) is not None


@pytest.mark.anvil
def test_dev_key_is_refused_on_a_non_dev_chain_id(anvil_binary: Path) -> None:
    with chain.start_anvil(chain_id=80002) as node:  # Polygon Amoy's chain id
        with pytest.raises(chain.SignerNotAllowed, match="80002"):
            chain.connect(rpc_url=node.url)
        own = chain.connect(rpc_url=node.url, private_key=chain.DEV_ACCOUNT_KEYS[1])
        assert own.chain_id == 80002
