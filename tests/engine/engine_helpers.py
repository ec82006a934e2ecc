"""Helpers for the rule tests: place orders and pick fields out of events."""


def kinds(events):
    return [event[0] for event in events]


def trades(events):
    """(taker, maker, price, quantity) of each trade."""
    return [(e[2], e[3], e[7], e[8]) for e in events if e[0] == "trade"]


def cancels(events):
    """(order_id, remaining, reason) of each cancel."""
    return [(e[2], e[6], e[7]) for e in events if e[0] == "cancelled"]


def limit(book, order_id, side, quantity, price, user=None, tif="GTC", stp="none"):
    return book.submit(order_id, user or f"u{order_id}", side, "limit", quantity, price,
                       time_in_force=tif, self_trade_prevention=stp)


def market(book, order_id, side, quantity, user=None, stp="none", cap=None):
    return book.submit(order_id, user or f"u{order_id}", side, "market", quantity,
                       self_trade_prevention=stp, notional_cap=cap)


def stop(book, order_id, side, quantity, stop_price, price=None, tif="GTC", user=None):
    order_type = "stop_loss" if price is None else "stop_limit"
    return book.submit(order_id, user or f"u{order_id}", side, order_type, quantity, price,
                       stop_price, tif)


def levels(book):
    depth = book.depth(None)
    return ([tuple(level) for level in depth.bids], [tuple(level) for level in depth.asks])
