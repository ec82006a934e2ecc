"""Hypothesis strategies for command streams, and helpers to run them on any book."""

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Profiles are applied per test (not loaded globally) so other suites keep their own settings.
settings.register_profile("engine", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("engine-thorough", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# For checking that the tests catch a deliberately broken engine: fail fast, skip shrinking.
settings.register_profile("engine-noshrink", max_examples=200, deadline=None, database=None,
                          phases=[Phase.generate], suppress_health_check=[HealthCheck.too_slow])
engine_settings = settings.get_profile(os.environ.get("ENGINE_HYPOTHESIS_PROFILE", "engine"))

PREVENTIONS = ("none", "cancel_taker", "cancel_maker", "cancel_both")
users = st.sampled_from((1, 2, 3))
sides = st.sampled_from(("buy", "sell"))
prices = st.integers(95, 105)  # a narrow band, so orders cross often
quantities = st.integers(1, 20)
time_in_force = st.sampled_from(("GTC", "GTC", "IOC", "FOK"))


@st.composite
def submissions(draw, prevention=None):
    """One valid order as ("submit", reuse_id?, arguments after the order id)."""
    order_type = draw(st.sampled_from(("limit", "limit", "limit", "market", "stop_loss",
                                       "stop_limit")))
    side = draw(sides)
    stp = prevention or draw(st.sampled_from(PREVENTIONS))
    price = draw(prices) if order_type in ("limit", "stop_limit") else None
    stop_price = draw(prices) if order_type.startswith("stop") else None
    tif = draw(time_in_force) if order_type in ("limit", "stop_limit") else "GTC"
    cap = None
    if side == "buy" and order_type in ("market", "stop_loss") and draw(st.booleans()):
        cap = draw(st.integers(1, 3000))
    reuse = draw(st.integers(0, 19)) == 0  # now and then an id that may still be open
    return ("submit", reuse, (draw(users), side, order_type, draw(quantities), price,
                              stop_price, tif, stp, cap))


def commands(prevention=None, max_size=50):
    """Lists of submissions and cancels; a cancel names an earlier id by position."""
    cancel = st.tuples(st.just("cancel"), st.integers(0, 10_000))
    command = st.one_of(submissions(prevention), submissions(prevention), cancel)
    # Draw the length first: st.lists alone averages ~5 items, too few to build up a book.
    return st.integers(0, max_size).flatmap(
        lambda size: st.lists(command, min_size=size, max_size=size))


def resolve(raw_commands):
    """Concrete calls: ("submit", (order_id, ...)) or ("cancel", order_id)."""
    issued, calls = [], []
    for command in raw_commands:
        if command[0] == "cancel":
            order_id = issued[command[1] % len(issued)] if issued else 999_999
            calls.append(("cancel", order_id))
            continue
        _, reuse, arguments = command
        order_id = issued[-1] if reuse and issued else len(issued) + 1
        issued.append(order_id)
        calls.append(("submit", (order_id, *arguments)))
    return calls


def call(book, command):
    """Run one resolved call; return its events as plain tuples."""
    kind, arguments = command
    events = book.cancel(arguments) if kind == "cancel" else book.submit(*arguments)
    return [tuple(event) for event in events]
