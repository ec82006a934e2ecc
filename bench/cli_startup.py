"""Median wall time of `alefctl --help` and `alefctl user list --json` (embedded database).

Usage: python bench/cli_startup.py [--runs N]
Targets on a 2-core machine: --help under 0.3 s, user list under 1 s (server already running).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def median_seconds(command: list[str], env: dict[str, str], runs: int) -> float:
    """Run a command `runs` times; return the median wall time in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the two medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    alefctl = shutil.which("alefctl") or os.path.join(os.path.dirname(sys.executable), "alefctl")
    home = tempfile.mkdtemp(prefix="alef-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALEF_")} | {"ALEF_HOME": home}
    subprocess.run([alefctl, "db", "init"], env=env, check=True, capture_output=True)  # warm up
    try:
        help_s = median_seconds([alefctl, "--help"], env, args.runs)
        list_s = median_seconds([alefctl, "user", "list", "--json"], env, args.runs)
    finally:
        subprocess.run([alefctl, "db", "stop"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    print(f"{'command':32} {'median s':>9} {'target s':>9}")
    print(f"{'alefctl --help':32} {help_s:9.3f} {0.3:9.1f}")
    print(f"{'alefctl user list --json':32} {list_s:9.3f} {1.0:9.1f}")


if __name__ == "__main__":
    main()
