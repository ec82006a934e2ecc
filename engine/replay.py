"""Replay a command file through one book: ``python -m engine.replay FILE [--stp MODE]``.

Input, one command per line (blank lines are skipped):

- ``A,<order_id>,<user_id>,<side>,<type>,<price>,<quantity>,<stop_price>,<tif>`` with side
  ``B``/``S``, type ``L`` (limit), ``M`` (market), ``SL`` (stop_loss), ``ST`` (stop_limit);
  price is read only for L and ST, stop_price only for SL and ST, tif (``GTC``, ``IOC``,
  ``FOK``, empty for GTC) only for L and ST; trailing empty fields may be left out;
- ``C,<order_id>``.

Output on stdout: ``T,<taker_order_id>,<maker_order_id>,<price>,<quantity>`` per fill in order
of execution, then the resting book as ``B,<side>,<price>,<total_quantity>,<order_count>``,
bids best to worst, then asks best to worst. Rejected orders and cancels of orders that are
not open print nothing. A malformed line stops the replay with exit status 2.
Self-trade prevention is off unless ``--stp cancel_taker|cancel_maker|cancel_both``.
"""

import argparse
import sys
from collections.abc import Iterable
from typing import TextIO

from engine.book import OrderBook

SIDES = {"B": "buy", "S": "sell"}
TYPES = {"L": "limit", "M": "market", "SL": "stop_loss", "ST": "stop_limit"}
SIDE_CODES = {"buy": "B", "sell": "S"}


class ReplayInputError(ValueError):
    """A line that is not a valid command."""


def parse_command(line: str) -> tuple:
    """("C", order_id) or ("A", submit arguments) for one input line."""
    fields = [field.strip() for field in line.split(",")]
    if fields[0] == "C" and len(fields) == 2 and fields[1]:
        return ("C", fields[1])
    if fields[0] != "A" or not 7 <= len(fields) <= 9:
        raise ReplayInputError("expected A,<id>,<user>,<side>,<type>,<price>,<qty>,<stop>,<tif>"
                               " or C,<id>")
    fields += [""] * (9 - len(fields))
    _, order_id, user_id, side, type_code, price, quantity, stop_price, tif = fields
    if side not in SIDES or type_code not in TYPES or not order_id:
        raise ReplayInputError(f"bad side {side!r} or type {type_code!r}")
    order_type = TYPES[type_code]
    has_price = order_type in ("limit", "stop_limit")
    is_stop = order_type.startswith("stop")
    return ("A", (order_id, user_id, SIDES[side], order_type, _integer(quantity),
                  _integer(price) if has_price else None,
                  _integer(stop_price) if is_stop else None,
                  (tif or "GTC") if has_price else "GTC"))


def replay(lines: Iterable[str], out: TextIO, prevention: str = "none") -> OrderBook:
    """Run every command, writing trades as they happen and the final book at the end."""
    book = OrderBook()
    write = out.write
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            kind, arguments = parse_command(line.rstrip("\r\n"))
        except ReplayInputError as error:
            raise ReplayInputError(f"line {number}: {error}: {line.strip()!r}") from None
        if kind == "C":
            events = book.cancel(arguments)
        else:
            order_id, user_id, side, order_type, quantity, price, stop_price, tif = arguments
            events = book.submit(order_id, user_id, side, order_type, quantity, price,
                                 stop_price, tif, prevention)
        for event in events:
            if event[0] == "trade":
                write(f"T,{event[2]},{event[3]},{event[7]},{event[8]}\n")
    depth = book.depth(None)
    for side, levels in (("B", depth.bids), ("S", depth.asks)):
        for level in levels:
            write(f"B,{side},{level.price},{level.quantity},{level.order_count}\n")
    return book


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m engine.replay",
                                     description="Replay orders and cancels through one book.")
    parser.add_argument("file", help="command file, or - for stdin")
    parser.add_argument("--stp", choices=("cancel_taker", "cancel_maker", "cancel_both"),
                        default="none", help="self-trade prevention for every order")
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            replay(sys.stdin, sys.stdout, args.stp)
        else:
            with open(args.file, encoding="utf-8") as commands:
                replay(commands, sys.stdout, args.stp)
    except ReplayInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ReplayInputError(f"not an integer: {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
