"""The replay tool, run as a subprocess exactly as an outside checker would."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

COMMANDS = """\
A,1,u1,S,L,101,5,,GTC
A,2,u2,S,L,100,3,,
A,3,u3,B,L,99,4,,GTC
A,4,u4,B,L,101,6,,GTC
A,5,u5,S,SL,,2,100,
A,6,u6,S,M,,1,,

C,3
C,3
A,7,u1,B,L,102,10,,FOK
A,8,u7,B,ST,103,2,101,IOC
A,9,u8,S,L,105,4,,
A,10,u8,B,L,105,1,,IOC
A,11,u9,B,L,90,2
A,12,u9,B,L,95,1,,GTC
A,13,u9,B,L,95,3,,GTC
"""

EXPECTED = """\
T,4,2,100,3
T,4,1,101,3
T,6,3,99,1
T,5,3,99,2
T,10,1,101,1
T,8,1,101,1
B,B,95,4,2
B,B,90,2,1
B,S,105,4,1
"""

SELF_TRADE = "A,1,u1,S,L,100,5,,\nA,2,u2,S,L,100,5,,\nA,3,u1,B,L,100,7,,\n"


def run_replay(tmp_path, text, *options):
    path = tmp_path / "commands.txt"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "engine.replay", str(path), *options],
                          capture_output=True, text=True, cwd=ROOT)


def test_replay_prints_fills_in_order_then_the_book(tmp_path):
    result = run_replay(tmp_path, COMMANDS)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == EXPECTED


@pytest.mark.parametrize(("options", "expected"), [
    ((), "T,3,1,100,5\nT,3,2,100,2\nB,S,100,3,1\n"),
    (("--stp", "cancel_taker"), "B,S,100,10,2\n"),
    (("--stp", "cancel_maker"), "T,3,2,100,5\nB,B,100,2,1\n"),
    (("--stp", "cancel_both"), "B,S,100,5,1\n"),
])
def test_self_trade_prevention_is_off_unless_asked(tmp_path, options, expected):
    assert run_replay(tmp_path, SELF_TRADE, *options).stdout == expected


def test_malformed_line_is_reported_with_its_number(tmp_path):
    result = run_replay(tmp_path, "A,1,u1,S,L,100,5,,\nA,2,u2,X,L,100,5,,\n")
    assert result.returncode == 2
    assert result.stderr.startswith("error: line 2:")
