"""Money is Decimal, quantized to the cent explicitly; never float."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext

from alefctl.errors import InvalidInput

CENT = Decimal("0.01")
# Balances a user holds: fiat (users.fiat_balance) and stablecoins (user_balances), 1:1 to USD.
CURRENCIES = ("USD", "USDC")


def parse_amount(raw: str | Decimal | int, *, field: str = "amount") -> Decimal:
    """Parse a positive amount with at most two decimal places, or raise InvalidInput."""
    if isinstance(raw, float):
        raise InvalidInput(f"{field} must be given as a string or Decimal, not float", field=field)
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a number: {raw!r}", field=field) from None
    if not amount.is_finite():
        raise InvalidInput(f"{field} must be a finite number", field=field)
    if amount <= 0:
        raise InvalidInput(f"{field} must be greater than zero (got {amount})", field=field)
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise InvalidInput(f"{field} has more than two decimal places: {amount}", field=field)
    return amount.quantize(CENT)


def parse_currency(raw: str | None, *, field: str = "currency") -> str:
    """A balance's currency (USD when not given; any case), or raise InvalidInput."""
    currency = (raw or "USD").strip().upper()
    if currency not in CURRENCIES:
        raise InvalidInput(f"{field} must be one of {', '.join(CURRENCIES)} (got {raw!r})",
                           field=field)
    return currency


def cents_down(amount: Decimal) -> Decimal:
    """Round an amount down to the cent (the remainder is the caller's to book)."""
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def format_usd(amount: Decimal) -> str:
    """Render an amount or a price in USD as '1,234.56': the one rule for every message and
    problem detail. Two decimals, more only where the value has them (a price on a 0.001 tick
    grid), never rounded; any size (a refusal quoting a huge order notional must not fail for
    want of the default context's 28 digits)."""
    with localcontext() as context:
        context.prec = max(context.prec, amount.adjusted() + 3 + _decimals(amount))
        places = max(2, _decimals(amount.normalize()))
        return f"{amount.quantize(Decimal(1).scaleb(-places)):,}"


def _decimals(amount: Decimal) -> int:
    """How many digits an amount has after the point, as written."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_price(ticks: int, tick_size: Decimal) -> str:
    """A matching-engine price (whole ticks of the token's tick size) as the USD the user wrote:
    4000 ticks of 0.01 is '40.00 USD'."""
    return f"{format_usd(ticks * tick_size)} USD"
