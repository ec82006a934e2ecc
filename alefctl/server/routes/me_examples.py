"""Example answers of the account routes (/api/v1/me) for the OpenAPI document."""

from __future__ import annotations

from typing import Any

USER = "0192f0a1-7c2e-7b3a-9d4e-5f6a7b8c9d0e"
TOKEN = "0192f0a1-0000-7000-8000-00000000d47e"
AT = "2026-12-01T09:30:00Z"
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def _page(item: dict[str, Any], path: str) -> dict[str, Any]:
    cursor = "MjAyNi0xMi0wMVQwOTozMDowMCswMDowMHwwMTky"
    return {"items": [item], "next": f"/api/v1/me/{path}?limit=1&cursor={cursor}",
            "next_cursor": cursor}


PROFILE = {"id": USER, "email": "ivy@example.com", "full_name": "Ivy Investor",
           "role": "investor", "country": "AE", "is_activated": True, "kyc_status": "approved",
           "kyc_level": 2, "accreditation_status": "retail", "fatca_status": "clear",
           "wallet_address": WALLET, "created_at": AT}
ANSWERS: dict[str, Any] = {
    "profile": PROFILE,
    "wallet": PROFILE | {"changed": True},
    "balances": {"currency": "USD", "fiat": {
        "available": "48950.00", "locked_in_orders": "250.00", "locked_in_otc_orders": "0.00",
        "in_pending_subscriptions": "0.00", "in_pending_withdrawals": "0.00",
        "held_until_settlement": "199.00",
        "total": "49200.00"}, "stablecoins": [
        {"currency": "USDC", "balance": "12.50", "locked": "0.00"}]},
    "holdings": [{"token_id": TOKEN, "symbol": "DATE", "quantity": 80, "locked_in_orders": 10,
                  "frozen": 0, "wallet_frozen": False, "available": 70, "on_chain_quantity": 80, "on_chain_in_flight": 0,
                  "average_cost": "10.0000", "last_price": "10.50",
                  "price_source": "last_trade", "market_value": "840.00"}],
    "allocations": _page({"id": USER, "symbol": "DATE", "token_id": TOKEN, "quantity": 100,
                          "price_per_token": "10.00", "amount": "1000.00",
                          "allocation_type": "primary", "status": "confirmed",
                          "on_chain_status": "minted", "on_chain_tx_hash": "0x" + "ab" * 32,
                          "confirmed_at": AT, "created_at": AT}, "allocations"),
    "dividends": _page({"id": USER, "dividend_id": USER, "symbol": "DATE", "token_id": TOKEN,
                        "dividend_type": "fiat", "per_token_usd": "0.500000",
                        "per_token_qty": None, "record_date": AT, "token_balance": 80,
                        "gross_amount": "40.00", "fee_amount": "0.40", "net_amount": "39.60",
                        "token_quantity": 0, "status": "paid", "on_chain_status": None,
                        "paid_at": AT, "created_at": AT}, "dividends"),
    "fills": _page({"id": USER, "symbol": "DATE", "token_id": TOKEN, "side": "sell",
                    "order_id": USER, "liquidity": "maker", "price": "10.00", "quantity": 20,
                    "total": "200.00", "fee": "1.00", "settlement_status": "settled",
                    "settlement_type": "on_chain", "tx_hash": "0x" + "cd" * 32,
                    "settled_at": AT, "created_at": AT}, "fills"),
    "transactions": _page({"id": USER, "type": "deposit", "currency": "USD", "symbol": None,
                           "amount": "50000.00", "quantity": None, "status": "completed",
                           "balance_after": "50000.00", "reference_type": None,
                           "reference_id": None, "description": "wire 4471",
                           "created_at": AT}, "transactions"),
    "otc_orders": _page({"id": USER, "symbol": "GOLD", "token_id": TOKEN,
                         "client_order_id": "my-1", "side": "buy", "quantity": 5,
                         "price": "20.00", "total": "100.00", "locked_fiat": "100.00",
                         "locked_quantity": 0, "status": "pending", "rejection_reason": None,
                         "trade_id": None, "reviewed_at": None, "created_at": AT}, "otc-orders"),
}
ANSWERS["otc_cancel"] = ANSWERS["otc_orders"]["items"][0] | {
    "user_id": USER, "email": "ivy@example.com", "locked_fiat": "0.00", "status": "cancelled",
    "reviewed_at": AT}
WITHDRAWAL = {"id": USER, "user_id": USER, "email": "ivy@example.com", "amount": "250.00",
              "currency": "USD", "reference": "IBAN AE07 0331 2345 6789 0123 456", "status": "pending",
              "wallet_transaction_id": USER, "approval_request_id": None, "decided_at": None,
              "reason": None, "created_at": AT}
ANSWERS["withdrawal"] = WITHDRAWAL
ANSWERS["withdrawal_cancelled"] = WITHDRAWAL | {"status": "cancelled"}
ANSWERS["withdrawal_queue"] = [WITHDRAWAL]
ANSWERS["withdrawal_done"] = WITHDRAWAL | {"status": "completed", "decided_at": AT}
ANSWERS["withdrawal_rejected"] = WITHDRAWAL | {"status": "rejected", "decided_at": AT,
                                               "reason": "the account name does not match"}
ANSWERS["withdrawals"] = _page({k: WITHDRAWAL[k] for k in (
    "id", "amount", "currency", "reference", "status", "approval_request_id", "decided_at", "reason",
    "created_at")}, "withdrawals")
STATEMENT_JSON = {
    "user_id": USER, "email": "ivy@example.com", "from": "2026-11-01T00:00:00Z",
    "to": "2026-12-01T00:00:00Z",
    "opening": {"cash": {"USD": "0.00"}, "tokens": {}},
    "closing": {"cash": {"USD": "49039.60"}, "tokens": {"DATE": 80}},
    "totals": {"USD": {"deposits": "50000.00", "withdrawals": "0.00", "fees": "1.00",
                       "dividends": "39.60", "trade_purchases": "0.00", "trade_sales": "200.00",
                       "subscriptions": "1000.00"}},
    "movements": [{"created_at": AT, "id": USER, "type": "deposit", "currency": "USD",
                   "symbol": None, "amount": "50000.00", "quantity": None,
                   "status": "completed", "balance_after": "50000.00",
                   "reference_type": None, "reference_id": None, "description": "wire 4471"}]}
STATEMENT_CSV = (
    "created_at,id,type,currency,symbol,amount,quantity,status,balance_after,reference_type,"
    "reference_id,description\n2026-11-01T00:00:00Z,,opening_balance,USD,,0.00,,,,,,\n"
    f"{AT},{USER},deposit,USD,,50000.00,,completed,50000.00,,,wire 4471\n")
STATEMENT: dict[int | str, dict[str, Any]] = {200: {"description": "the statement (format=json or format=csv)", "content": {
    "application/json": {"example": STATEMENT_JSON}, "text/csv": {"example": STATEMENT_CSV}}}}


def example(name: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route whose answer (200, or `status`) is ANSWERS[name]."""
    return {status: {"description": "OK", "content": {
        "application/json": {"example": ANSWERS[name]}}}}
