"""The benchmark runs (its figures are printed, never asserted) and its stream is as specified."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

from engine.benchstream import generate_commands

ROOT = Path(__file__).resolve().parents[2]


def command_kind(command):
    return "cancel" if command[0] is None else command[3]


def test_standard_mix_proportions_and_determinism():
    commands = generate_commands(4_000, seed=7)
    assert commands == generate_commands(4_000, seed=7)
    assert commands != generate_commands(4_000, seed=8)
    shares = Counter(command_kind(c) for c in commands)
    assert abs(shares["limit"] / 4_000 - 0.60) < 0.03
    assert abs(shares["cancel"] / 4_000 - 0.25) < 0.03
    assert abs(shares["market"] / 4_000 - 0.15) < 0.03


def test_full_mix_adds_stops_and_ioc_fok():
    commands = generate_commands(4_000, seed=7, mix="full")
    shares = Counter(command_kind(c) for c in commands)
    assert abs((shares["stop_loss"] + shares["stop_limit"]) / 4_000 - 0.05) < 0.015
    assert {c[7] for c in commands if command_kind(c) == "limit"} == {"GTC", "IOC", "FOK"}


def test_bench_command_runs_and_prints_its_figures():
    result = subprocess.run([sys.executable, "-m", "engine.bench", "--n", "3000", "--repeat",
                             "1"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    for mix in ("standard", "full"):
        assert f"mix={mix} commands=3,000" in result.stdout
    assert result.stdout.count("wall clock: median") == 2
    assert result.stdout.count("process CPU: median") == 2
    assert result.stdout.count("peak memory allocated by the engine") == 2
