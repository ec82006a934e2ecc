"""The platform's invariants, each a named SQL query returning the rows that break it, and the
health of its background jobs (JOB_CHECKS: no settlement or mint failed, none waits longer than
its stuck threshold, settings `jobs.*`), so that `alefctl check` fails on either.

Sign convention: wallet_transactions.amount is signed from the user's side (+ credit, - debit),
so a withdrawal is negative and sum(amount) of deposits and withdrawals is the net money in.
Money between two balances is counted once: fiat locked in open orders (a buy order's lock
debits fiat_balance and writes no ledger row; trading.funds), escrow of the primary offerings,
and the net of a distributing dividend that its issuer has funded but whose holders are not yet
paid. OTC locks are assumed to follow the order path's convention (otc_orders.locked_fiat).
USDC counts 1:1 with USD: stablecoin dividends are funded in USD and paid in USDC.
The per-user ledger rule is offering.py's: fiat_balance + fiat locked in open orders = sum of
the user's USD wallet transactions that are pending or completed.
Run the checks in one REPEATABLE READ transaction so that they see one consistent state.
Per-user and per-token sums are one GROUP BY over a UNION ALL, not joins of aggregates: right
after a large batch (a dividend to 100,000 holders) the planner's statistics are stale, and a
join it believes small turns quadratic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.errors import InvalidInput
from alefctl.settings import JobSettings
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.cap_table import SUPPLY_CHANGES
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

MAX_ROWS = 100  # offending rows reported per check
OPEN_ORDER = OPEN_STATUSES_SQL
OPEN_OTC = "('pending', 'approved')"
MONEY_APPROVALS = "('wallet.deposit', 'wallet.withdraw')"  # kinds whose executor writes one ledger row

# The register at the instants just before each supply change of a token (the distinct times
# in `ats`, then infinity: now) in one pass over positions_history, not one per instant: each
# history row falls in a bucket of `ats` (width_bucket) by the start of its transaction (tx_at,
# the clock of the supply records: migration 0026), the running sum of the buckets' changes
# before an instant is the register then, given that each row's balance follows from the
# previous one (`broken` counts those that do not). The supply changes are bucketed the same way.
REGISTER_SUMS_SQL = (
    f"WITH changes AS MATERIALIZED ({SUPPLY_CHANGES}),"
    " instants AS (SELECT t.id AS token_id, coalesce(c.ats, '{}') || 'infinity'::timestamptz"
    " AS ats FROM tokens t LEFT JOIN (SELECT token_id, array_agg(DISTINCT at ORDER BY at) AS ats"
    " FROM changes GROUP BY token_id) c ON c.token_id = t.id),"
    " history AS (SELECT token_id, tx_at, change, balance <> coalesce(lag(balance)"
    " OVER (PARTITION BY token_id, user_id ORDER BY changed_at, id), 0) + change AS broken"
    " FROM positions_history),"
    " buckets AS (SELECT token_id, bucket, sum(held) AS held, sum(supply) AS supply,"
    " sum(broken) AS broken FROM (SELECT h.token_id, width_bucket(h.tx_at, i.ats)"
    " AS bucket, h.change AS held, 0 AS supply, h.broken::int AS broken FROM history h"
    " JOIN instants i USING (token_id) UNION ALL SELECT c.token_id, width_bucket(c.at, i.ats),"
    " 0, c.quantity, 0 FROM changes c JOIN instants i USING (token_id)) x GROUP BY 1, 2),"
    " running AS (SELECT token_id, bucket, sum(held) OVER w AS held, sum(supply) OVER w"
    " AS supply, sum(broken) OVER w AS broken FROM buckets"
    " WINDOW w AS (PARTITION BY token_id ORDER BY bucket))"
    " SELECT DISTINCT ON (r.token_id) r.token_id, t.symbol, nullif(i.ats[r.bucket + 1],"
    " 'infinity') AS just_before,"
    " r.held AS register_total, r.supply AS outstanding_on_platform,"
    " r.broken AS broken_history_rows FROM running r JOIN instants i USING (token_id)"
    " JOIN tokens t ON t.id = r.token_id WHERE r.held <> r.supply OR r.broken > 0"
    " ORDER BY r.token_id, r.bucket"
)


@dataclass(frozen=True)
class Invariant:
    """A named rule and the query that returns the rows breaking it."""

    name: str
    description: str
    sql: str


@dataclass
class CheckResult:
    """One invariant's outcome: the offending rows (at most MAX_ROWS), none when it holds."""

    name: str
    description: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing breaks the invariant."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"name": self.name, "ok": self.ok, "description": self.description,
                "violations": self.violations, "truncated": self.truncated}


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "dollars_conserved",
        "fiat balances + USDC balances + fiat locked in open orders and OTC orders + offering"
        " escrow + funded dividends not yet paid (pending, or failed) = completed deposits -"
        " withdrawals",
        "SELECT *, held - net_deposits AS difference FROM (SELECT"
        " fiat_balances + stablecoin_balances + locked_in_orders + locked_in_otc + escrow"
        " + dividends_in_flight AS held, * FROM (SELECT"
        " (SELECT coalesce(sum(fiat_balance), 0) FROM users) AS fiat_balances,"
        " (SELECT coalesce(sum(balance), 0) FROM user_balances) AS stablecoin_balances,"
        " (SELECT coalesce(sum(locked_fiat), 0) FROM orders"
        f" WHERE status IN {OPEN_ORDER}) AS locked_in_orders,"
        " (SELECT coalesce(sum(locked_fiat), 0) FROM otc_orders"
        f" WHERE status IN {OPEN_OTC}) AS locked_in_otc,"
        " (SELECT coalesce(sum(escrow_balance), 0) FROM tokens) AS escrow,"
        " (SELECT coalesce(sum(p.net_amount), 0) FROM dividend_payments p"
        " JOIN dividend_declarations d ON d.id = p.dividend_id WHERE (d.status = 'distributing'"
        " AND p.status = 'pending' OR d.status IN ('distributing', 'distributed')"
        " AND p.status = 'failed') AND d.dividend_type <> 'token') AS dividends_in_flight,"
        " (SELECT coalesce(sum(amount), 0) FROM wallet_transactions WHERE status = 'completed'"
        " AND type IN ('deposit', 'withdrawal')) AS net_deposits) parts) totals"
        " WHERE held <> net_deposits",
    ),
    Invariant(
        "user_fiat_ledger",
        "each user's fiat_balance + fiat locked in their open orders = the sum of their pending"
        " and completed USD wallet transactions (a lock moves money, not the ledger)",
        "SELECT b.user_id, u.email, b.fiat_balance, b.locked_in_orders, b.ledger_total,"
        " b.fiat_balance + b.locked_in_orders - b.ledger_total AS difference FROM (SELECT user_id,"
        " sum(balance) AS fiat_balance, sum(locked) AS locked_in_orders, sum(ledger) AS ledger_total"
        " FROM (SELECT id AS user_id, fiat_balance AS balance, 0 AS locked, 0 AS ledger FROM users"
        f" UNION ALL SELECT user_id, 0, locked_fiat, 0 FROM orders WHERE status IN {OPEN_ORDER}"
        f" UNION ALL SELECT user_id, 0, locked_fiat, 0 FROM otc_orders WHERE status IN {OPEN_OTC}"
        " UNION ALL SELECT user_id, 0, 0, amount FROM wallet_transactions WHERE currency = 'USD'"
        " AND status IN ('pending', 'completed')) parts GROUP BY user_id"
        " HAVING sum(balance) + sum(locked) <> sum(ledger)) b JOIN users u ON u.id = b.user_id"
        " ORDER BY u.email",
    ),
    Invariant(
        "user_stablecoin_ledger",
        "each user's USDC balance = the sum of their pending and completed USDC wallet"
        " transactions",
        "SELECT user_id, sum(balance) AS balance, sum(ledger) AS ledger_total FROM (SELECT user_id,"
        " balance, 0 AS ledger FROM user_balances WHERE currency = 'USDC' UNION ALL SELECT user_id,"
        " 0, amount FROM wallet_transactions WHERE currency = 'USDC'"
        " AND status IN ('pending', 'completed')) parts GROUP BY user_id"
        " HAVING sum(balance) <> sum(ledger)",
    ),
    Invariant(
        "locked_within_balance",
        "no wallet or stablecoin balance has more locked (and, for tokens, frozen) than it holds",
        "SELECT 'wallets' AS source, id::text AS row_id, user_id, balance::numeric AS balance,"
        " locked_balance::numeric AS locked FROM wallets"
        " WHERE locked_balance + frozen_quantity > balance"
        " UNION ALL SELECT 'user_balances', currency, user_id, balance, locked FROM user_balances"
        " WHERE locked > balance",
    ),
    Invariant(
        "cancelled_offerings_refunded",
        "a cancelled offering holds no escrow and every subscription to it is refunded or"
        " rejected",
        "SELECT t.id AS token_id, t.symbol, t.escrow_balance, count(a.id) AS unrefunded"
        " FROM tokens t LEFT JOIN token_allocations a ON a.token_id = t.id"
        " AND a.allocation_type = 'primary' AND a.status IN ('pending_payment', 'confirmed')"
        " WHERE t.status = 'cancelled' GROUP BY t.id, t.symbol, t.escrow_balance"
        " HAVING t.escrow_balance <> 0 OR count(a.id) > 0 ORDER BY t.symbol",
    ),
    Invariant(
        "token_supply_in_wallets",
        "each token's wallet balances sum to what is on the platform by its records: confirmed"
        " allocations plus paid token dividends, less burns, refunded subscriptions and tokens"
        " withdrawn off the platform and not deposited back (cap_table.SUPPLY_CHANGES)",
        "SELECT s.token_id, t.symbol, s.wallet_total, s.on_platform FROM (SELECT token_id,"
        " sum(held) AS wallet_total, sum(supply) AS on_platform FROM (SELECT token_id, balance"
        f" AS held, 0 AS supply FROM wallets UNION ALL SELECT token_id, 0, quantity FROM"
        f" ({SUPPLY_CHANGES}) c) parts GROUP BY token_id HAVING sum(held) <> sum(supply)) s"
        " JOIN tokens t ON t.id = s.token_id ORDER BY t.symbol",
    ),
    Invariant(
        "positions_history_matches_wallets",
        "each wallet's latest positions_history row shows its balance, so the register at any"
        " instant sums to what is held",
        "SELECT w.token_id, w.user_id, w.balance, h.balance AS history_balance FROM wallets w"
        " LEFT JOIN LATERAL (SELECT balance FROM positions_history p WHERE p.token_id ="
        " w.token_id AND p.user_id = w.user_id ORDER BY changed_at DESC, id DESC LIMIT 1) h"
        " ON true WHERE w.balance <> coalesce(h.balance, 0) ORDER BY w.token_id, w.user_id",
    ),
    Invariant(
        "register_sums_to_outstanding",
        "at every instant just before a change of a token's supply (an issue, burn, refund,"
        " withdrawal or deposit; cap_table.py) and now, the positions_history register sums to"
        " what was issued less burned less withdrawn off the platform then, and each history"
        " row's balance is the previous one plus its change; shows each token's first failing"
        " instant (just_before; none: now)",
        REGISTER_SUMS_SQL,
    ),
    Invariant(
        "open_buy_orders_funded",
        "each open buy order holds its money: price x remaining quantity for limit and stop-limit"
        " orders, a budget above zero for market and stop-loss orders",
        "SELECT id AS order_id, user_id, token_id, order_type, status, price, remaining_quantity,"
        " locked_fiat, price * remaining_quantity AS required FROM orders WHERE side = 'buy'"
        f" AND status IN {OPEN_ORDER} AND (locked_fiat < price * remaining_quantity"
        " OR (price IS NULL AND locked_fiat <= 0)) ORDER BY created_at",
    ),
    Invariant(
        "open_sell_orders_covered",
        "each holder's locked tokens cover the remaining quantity of their open sell orders",
        "SELECT o.user_id, o.token_id, sum(o.remaining_quantity) AS open_sell_quantity,"
        " coalesce(w.locked_balance, 0) AS locked_balance FROM orders o LEFT JOIN wallets w"
        " ON w.user_id = o.user_id AND w.token_id = o.token_id WHERE o.side = 'sell'"
        f" AND o.status IN {OPEN_ORDER} GROUP BY o.user_id, o.token_id, w.locked_balance"
        " HAVING coalesce(w.locked_balance, 0) < sum(o.remaining_quantity)",
    ),
    Invariant(
        "trades_have_settlement_history",
        "each trade has trade_settlement_history rows, the latest matching its settlement status",
        "SELECT t.id AS trade_id, t.settlement_status, h.to_status AS latest_history_status"
        " FROM trades t LEFT JOIN LATERAL (SELECT to_status FROM trade_settlement_history"
        " WHERE trade_id = t.id ORDER BY created_at DESC, id DESC LIMIT 1) h ON true"
        " WHERE h.to_status IS DISTINCT FROM t.settlement_status ORDER BY t.created_at",
    ),
    Invariant(
        "no_negative_amounts",
        "no balance, lock, escrow or dividend amount is below zero",
        " UNION ALL ".join(
            f"SELECT '{table}.{column}' AS amount, id::text AS row_id, {column}::numeric AS value"
            f" FROM {table} WHERE {column} < 0"
            for table, column in (
                ("users", "fiat_balance"), ("wallets", "balance"), ("wallets", "locked_balance"),
                ("tokens", "escrow_balance"), ("tokens", "total_raised"),
                ("orders", "locked_fiat"), ("orders", "locked_quantity"),
                ("otc_orders", "locked_fiat"), ("otc_orders", "locked_quantity"),
                ("dividend_payments", "gross_amount"), ("dividend_payments", "fee_amount"),
                ("dividend_payments", "net_amount"),
            )
        ) + " UNION ALL SELECT 'user_balances.balance', user_id::text, balance FROM user_balances"
        " WHERE balance < 0 OR locked < 0",
    ),
    Invariant(
        "approvals_executed_once",
        "four-eyes: each executed deposit or withdrawal request has exactly one ledger row, in"
        " the currency it names (USD when none), and a request that was not executed has none",
        "SELECT r.id AS request_id, r.kind, r.status, count(w.id) AS ledger_rows,"
        " count(w.id) FILTER (WHERE w.currency <> coalesce(r.params->>'currency', 'USD'))"
        " AS in_other_currency FROM approval_requests r LEFT JOIN wallet_transactions w"
        " ON w.reference_type = 'approval_request' AND w.reference_id = r.id"
        f" WHERE r.kind IN {MONEY_APPROVALS} GROUP BY r.id, r.kind, r.status"
        " HAVING count(w.id) <> CASE WHEN r.status = 'executed' THEN 1 ELSE 0 END"
        " OR count(w.id) FILTER (WHERE w.currency <> coalesce(r.params->>'currency', 'USD')) > 0",
    ),
    Invariant(
        "withdrawals_match_ledger",
        "each investor withdrawal request agrees with the ledger row holding its money: the"
        " same amount and currency, pending while it waits, completed once paid out, cancelled"
        " once rejected or cancelled",
        "SELECT w.id AS withdrawal_id, w.status, w.amount, w.currency, t.status AS ledger_status,"
        " t.amount AS ledger_amount, t.currency AS ledger_currency FROM withdrawal_requests w"
        " JOIN wallet_transactions t ON t.id = w.wallet_transaction_id"
        " WHERE t.amount <> -w.amount OR t.currency <> w.currency OR t.status <> CASE"
        " w.status WHEN 'completed' THEN 'completed' WHEN 'rejected' THEN 'cancelled'"
        " WHEN 'cancelled' THEN 'cancelled' ELSE 'pending' END",
    ),
    Invariant(
        "dividend_totals_match_payments",
        "each live dividend's totals equal the sums of its payments (gross = net + fee +"
        " remainder), a distributed one has none pending and every paid one has its ledger row",
        "SELECT d.id AS dividend_id, d.status, d.holder_count, s.payments, d.total_gross_usd,"
        " d.total_net_usd, s.net, d.total_fee_usd, s.fee, d.remainder_usd, s.pending, s.unlinked"
        " FROM dividend_declarations d CROSS JOIN LATERAL (SELECT count(*) AS payments,"
        " coalesce(sum(gross_amount), 0) AS gross, coalesce(sum(net_amount), 0) AS net,"
        " coalesce(sum(fee_amount), 0) AS fee, count(*) FILTER (WHERE status = 'pending')"
        " AS pending, count(*) FILTER (WHERE status = 'paid' AND wallet_transaction_id IS NULL)"
        " AS unlinked, count(*) FILTER (WHERE status = 'paid') AS paid"
        " FROM dividend_payments WHERE dividend_id = d.id) s WHERE d.status <> 'cancelled' AND"
        " (d.holder_count <> s.payments OR d.total_net_usd <> s.net OR d.total_fee_usd <> s.fee"
        " OR d.total_gross_usd <> s.gross + d.remainder_usd"
        " OR d.total_gross_usd <> d.total_net_usd + d.total_fee_usd + d.remainder_usd"
        " OR s.unlinked > 0 OR (d.status = 'distributed' AND s.pending > 0)"
        " OR (d.status IN ('draft', 'pending_approval', 'approved') AND s.paid > 0))",
    ),
    Invariant(
        "withdrawals_exclude_unsettled_sales",
        "no fiat withdrawal (pending or completed) paid out sale proceeds not settled on-chain at"
        " its time: the user's USD ledger up to and with it stays at or above the net proceeds of"
        " their sales not settled then (workflows/proceeds.py)",
        "SELECT w.id AS withdrawal_id, u.email, -w.amount AS amount, w.created_at, f.left_after,"
        " h.held FROM wallet_transactions w JOIN users u ON u.id = w.user_id"
        " CROSS JOIN LATERAL (SELECT coalesce(sum(x.amount), 0) AS left_after"
        " FROM wallet_transactions x WHERE x.user_id = w.user_id AND x.currency = 'USD'"
        " AND x.status IN ('pending', 'completed') AND x.created_at <= w.created_at) f"
        " CROSS JOIN LATERAL (SELECT coalesce(sum(t.total - t.platform_fee), 0) AS held"
        " FROM trades t WHERE t.seller_id = w.user_id AND t.created_at <= w.created_at"
        " AND (t.settled_at IS NULL OR t.settled_at > w.created_at)) h"
        " WHERE w.type = 'withdrawal' AND w.currency = 'USD' AND w.status IN ('pending',"
        " 'completed') AND f.left_after < h.held ORDER BY w.created_at, w.id",
    ),
    Invariant(
        "redemptions_paid_and_burned",
        "a redeemed token has a paid redemption and no position left; a paid redemption's"
        " payments and ledger rows sum to what the issuer paid (the remainder = price x quantity"
        " - paid), and every payment's tokens have a burn (workflows/redemption.py)",
        "SELECT k.symbol, k.status, r.id AS redemption_id, h.held, r.paid_total, p.paid,"
        " r.quantity, p.quantity AS paid_quantity, l.credited, l.debited, p.unburned"
        " FROM tokens k LEFT JOIN redemptions r ON r.token_id = k.id AND r.status = 'paid'"
        " CROSS JOIN LATERAL (SELECT coalesce(sum(balance), 0) AS held FROM wallets"
        " WHERE token_id = k.id) h"
        " LEFT JOIN LATERAL (SELECT coalesce(sum(x.amount), 0) AS paid, coalesce(sum(x.quantity),"
        " 0) AS quantity, count(*) FILTER (WHERE o.kind <> 'burn' OR o.quantity <> x.quantity"
        " OR o.user_id <> x.user_id) AS unburned FROM redemption_payments x JOIN agent_operations o"
        " ON o.id = x.operation_id WHERE x.redemption_id = r.id) p ON true"
        " LEFT JOIN LATERAL (SELECT coalesce(sum(amount) FILTER (WHERE amount > 0), 0)"
        " AS credited, coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS debited"
        " FROM wallet_transactions WHERE reference_type = 'redemption'"
        " AND reference_id = r.id) l ON true"
        " WHERE (k.status = 'redeemed' AND (r.id IS NULL OR h.held <> 0)) OR (r.id IS NOT NULL"
        " AND (k.status <> 'redeemed' OR p.paid <> r.paid_total OR p.quantity <> r.quantity"
        " OR p.unburned > 0 OR l.credited <> r.paid_total OR l.debited <> r.paid_total"
        " OR r.remainder <> r.price_per_token * r.quantity - r.paid_total))"
        " ORDER BY k.symbol",
    ),
)


JOB_CHECKS: tuple[Invariant, ...] = (
    Invariant(
        "no_failed_settlements",
        "no trade's settlement has failed (fix the cause, then `alefctl settlement retry`)",
        "SELECT t.id AS trade_id, k.symbol, t.quantity, t.price, t.settlement_attempts AS attempts,"
        " t.settlement_error AS error FROM trades t JOIN tokens k ON k.id = t.token_id"
        " WHERE t.settlement_status = 'failed' ORDER BY t.created_at, t.id",
    ),
    Invariant(
        "no_failed_mints",
        "no allocation or token-dividend mint has failed (fix the cause, then `alefctl allocation"
        " retry`)",
        "SELECT m.job, m.id, k.symbol, u.email, m.quantity, m.error FROM (SELECT 'allocation' AS job,"
        " id, token_id, user_id, quantity, on_chain_error AS error, created_at"
        " FROM token_allocations WHERE on_chain_status = 'failed' UNION ALL SELECT"
        " 'token_dividend', p.id, d.token_id, p.user_id, p.token_quantity, p.on_chain_error,"
        " p.created_at FROM dividend_payments p JOIN dividend_declarations d"
        " ON d.id = p.dividend_id WHERE p.on_chain_status = 'failed') m"
        " JOIN tokens k ON k.id = m.token_id JOIN users u ON u.id = m.user_id"
        " ORDER BY m.created_at, m.id",
    ),
    Invariant(
        "no_failed_token_chain_jobs",
        "no token state job (on-chain pause, compliance rules) has failed (fix the cause; a new"
        " status or rule change queues a fresh job)",
        "SELECT j.id, k.symbol, j.kind, j.attempts, j.error FROM token_chain_jobs j"
        " JOIN tokens k ON k.id = j.token_id WHERE j.status = 'failed'"
        " AND NOT EXISTS (SELECT 1 FROM token_chain_jobs later WHERE later.token_id = j.token_id"
        " AND later.kind = j.kind AND later.status = 'done' AND later.created_at > j.created_at)"
        " ORDER BY j.created_at, j.id",
    ),
    Invariant(
        "no_failed_agent_operations",
        "no agent operation's chain job (freeze, unfreeze, forced transfer, burn, wallet recovery)"
        " has failed (fix the cause, then `alefctl holder retry`)",
        "SELECT o.id AS operation_id, o.kind, k.symbol, u.email, o.quantity, o.chain_error AS error"
        " FROM agent_operations o JOIN tokens k ON k.id = o.token_id JOIN users u ON u.id = o.user_id"
        " WHERE o.chain_status = 'failed' ORDER BY o.created_at, o.id",
    ),
    Invariant(
        "no_stuck_jobs",
        "no settlement waits longer than jobs.settlement_stuck_minutes, no mint or agent operation"
        " longer than jobs.mint_stuck_minutes (is a worker running? `alefctl serve`, or cron)",
        "SELECT j.job, j.id, k.symbol, j.status, floor(extract(epoch FROM now() - j.since) / 60)::int"
        " AS waiting_minutes FROM (SELECT 'settlement' AS job, id, token_id,"
        " settlement_status AS status, created_at AS since FROM trades"
        " WHERE settlement_status IN ('pending', 'processing')"
        " AND created_at < now() - make_interval(mins => :settlement_stuck_minutes)"
        " UNION ALL SELECT 'allocation_mint', id, token_id, on_chain_status, updated_at"
        " FROM token_allocations WHERE status = 'confirmed'"
        " AND on_chain_status IN ('pending', 'minting')"
        " AND updated_at < now() - make_interval(mins => :mint_stuck_minutes)"
        " UNION ALL SELECT 'dividend_mint', p.id, d.token_id, p.on_chain_status, p.paid_at"
        " FROM dividend_payments p JOIN dividend_declarations d ON d.id = p.dividend_id"
        " WHERE d.dividend_type = 'token' AND p.status = 'paid'"
        " AND p.on_chain_status IN ('pending', 'minting')"
        " AND p.paid_at < now() - make_interval(mins => :mint_stuck_minutes)"
        " UNION ALL SELECT 'agent_operation', id, token_id, chain_status, updated_at"
        " FROM agent_operations WHERE chain_status IN ('pending', 'sending')"
        " AND updated_at < now() - make_interval(mins => :mint_stuck_minutes)) j"
        " JOIN tokens k ON k.id = j.token_id WHERE k.contract_address IS NOT NULL"
        " ORDER BY j.since, j.id",
    ),
)
CHECKS = INVARIANTS + JOB_CHECKS


def run_checks(conn: Connection, actor: Actor, names: list[str] | None = None,
               jobs: JobSettings | None = None) -> list[CheckResult]:
    """Run every check (or the named ones) and return each with its offending rows (admins);
    `jobs` holds the stuck thresholds (default: the settings' defaults)."""
    policy.require(actor, "check.run")
    unknown = sorted(set(names or ()) - {check.name for check in CHECKS})
    if unknown:
        raise InvalidInput(f"unknown check: {', '.join(unknown)}", field="names")
    chosen = [check for check in CHECKS if names is None or check.name in names]
    thresholds = (jobs or JobSettings.model_validate({})).model_dump()
    results = []
    for invariant in chosen:
        rows = conn.execute(text(f"SELECT * FROM ({invariant.sql}) v LIMIT :n"),
                            {"n": MAX_ROWS + 1, **thresholds}).mappings().all()
        results.append(CheckResult(invariant.name, invariant.description,
                                   [dict(row) for row in rows[:MAX_ROWS]], len(rows) > MAX_ROWS))
    return results


def run_checks_in_snapshot(engine: Engine, actor: Actor, names: list[str] | None = None,
                           jobs: JobSettings | None = None) -> list[CheckResult]:
    """run_checks in one read-only REPEATABLE READ snapshot, so that a concurrent transfer
    cannot look like a break."""
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            return run_checks(conn, actor, names, jobs)
