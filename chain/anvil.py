"""Find the anvil binary and run a local anvil node whose state is kept in a directory.

`alefctl chain node` uses `anvil_command` (to run it in the foreground) or `start_anvil`;
tests and benchmarks use `start_anvil`. The state file is written when the node stops (and
every `state_interval` seconds), and loaded again at the next start.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chain.errors import AnvilNotFound

ANVIL_STATE_FILE = "anvil-state.json"
ANVIL_CHAIN_ID = 31337
ANVIL_INSTALL_HINT = (
    "anvil was not found. Install it with `npm install @foundry-rs/anvil-linux-amd64` "
    "(or Foundry's `foundryup`), then put it on PATH or set ALEF_ANVIL_BIN to the binary."
)


# In a checkout, `npm ci` in contracts/ installs the pinned anvil next to solc.
_CHECKOUT_ANVIL = Path(__file__).resolve().parents[1] / "contracts" / "node_modules" / ".bin" / "anvil"


def find_anvil() -> Path | None:
    """The anvil binary: $ALEF_ANVIL_BIN, PATH, ~/.foundry/bin, contracts/ or ./node_modules."""
    configured = os.environ.get("ALEF_ANVIL_BIN")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    candidates = (
        Path.home() / ".foundry" / "bin" / "anvil",
        _CHECKOUT_ANVIL,
        Path.cwd() / "node_modules" / ".bin" / "anvil",
    )
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def require_anvil() -> Path:
    """The anvil binary, or AnvilNotFound saying how to install it."""
    binary = find_anvil()
    if binary is None:
        raise AnvilNotFound(ANVIL_INSTALL_HINT)
    return binary


def anvil_command(
    state_dir: Path | None,
    port: int = 8545,
    host: str = "127.0.0.1",
    chain_id: int = ANVIL_CHAIN_ID,
    state_interval: int = 10,
) -> list[str]:
    """argv to run anvil; with state_dir, its chain is saved to and restored from state_dir."""
    argv = [
        str(require_anvil()),
        "--host",
        host,
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--silent",
    ]
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--state", str(state_dir / ANVIL_STATE_FILE), "--state-interval", str(state_interval)]
    return argv


@dataclass
class AnvilNode:
    """A running anvil process."""

    process: subprocess.Popen[bytes]
    url: str
    port: int

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node gracefully (it saves its state), killing it if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_anvil(
    state_dir: Path | None = None,
    port: int | None = None,
    chain_id: int = ANVIL_CHAIN_ID,
    startup_timeout: float = 20.0,
) -> AnvilNode:
    """Start anvil in the background (port None: a free one) and wait until it answers."""
    port = port or _free_port()
    process = subprocess.Popen(
        anvil_command(state_dir, port, chain_id=chain_id), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    node = AnvilNode(process, f"http://127.0.0.1:{port}", port)
    deadline = time.monotonic() + startup_timeout
    while not _answers(node.url):
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AnvilNotFound(f"anvil exited at start (code {process.returncode}): {stderr.strip()}")
        if time.monotonic() > deadline:
            node.stop()
            raise AnvilNotFound(f"anvil did not answer on {node.url} within {startup_timeout:g}s")
        time.sleep(0.1)
    return node


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return "result" in json.loads(response.read())
    except OSError:
        return False
