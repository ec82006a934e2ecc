"""Read-only views of a book: aggregated depth levels."""

from itertools import islice
from typing import NamedTuple


class DepthLevel(NamedTuple):
    """One aggregated price level."""

    price: int
    quantity: int  # total remaining quantity resting at this price
    order_count: int


class Depth(NamedTuple):
    """The top levels of both sides, best price first."""

    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]


def side_depth(book_side, max_levels: int | None) -> tuple[DepthLevel, ...]:
    """Aggregated levels of one BookSide, best first, at most max_levels (None: all)."""
    levels = book_side.levels
    sign = book_side.sign
    best_first = reversed(book_side.ranks)
    if max_levels is not None:
        best_first = islice(best_first, max_levels)
    depth = []
    for rank in best_first:
        total_quantity, _, queue = levels[rank]
        # Counted here rather than kept up to date on every order: depth is the rare call.
        order_count = sum(1 for order in queue if order[0])
        depth.append(DepthLevel(rank * sign, total_quantity, order_count))
    return tuple(depth)


def side_levels(book_side, max_levels: int) -> tuple[tuple[int, int], ...]:
    """(price, total quantity) of one BookSide's best max_levels levels: depth without the
    order counts, cheap enough to take after every change of the book."""
    levels = book_side.levels
    sign = book_side.sign
    return tuple((rank * sign, levels[rank][0])
                 for rank in islice(reversed(book_side.ranks), max_levels))
