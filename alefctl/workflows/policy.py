"""Who may do what: the one table of actions and the roles that may take them.

Every workflow asks `require(actor, action)` before it acts, and every command names its action
(`alefctl.commands.common.requires`), so the CLI, the console, HTTP and the workers share one
answer; `alefctl <group> <verb> --help` prints the roles from here. Object rules (a user's own
wallet, orders and keys) are the workflow's: an action ending in `.others` is the right to do to
another user's object what anyone may do to their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alefctl.errors import PermissionDenied

if TYPE_CHECKING:
    from alefctl.workflows.actor import Actor

ROLES = ("investor", "issuer", "kyc_reviewer", "operator", "admin")
ANYONE = ROLES
ADMIN = ("admin",)
JOBS = ("operator", "admin")  # cron and service accounts: workers, jobs and read-only checks
REVIEWERS = ("kyc_reviewer", "admin")
ISSUER = ("issuer",)
INVESTOR = ("investor",)

ACTIONS: dict[str, tuple[str, ...]] = {
    # the database and the jobs an operator runs
    "db.init": JOBS, "db.status": JOBS, "check.run": JOBS, "reconcile.run": JOBS,
    "chain.status": JOBS, "chain.balance": JOBS, "chain.work": JOBS,
    "settlement.run": JOBS, "token.mature_due": JOBS, "server.run": JOBS,
    "offering.fail_due": JOBS, "worker.run": JOBS,
    # a token's gas per operation kind (workflows/onchain/gas.py): its issuer, or jobs' roles
    "chain.gas": ("issuer", "operator", "admin"), "chain.gas.others": JOBS,
    # people and money
    "user.create": ADMIN, "user.list": ADMIN, "user.show": ADMIN, "user.activate": ADMIN,
    "user.fatca": ADMIN, "user.rate_limit": ADMIN,
    "api_key.manage": ANYONE, "api_key.manage.others": ADMIN,
    "wallet.show": ANYONE, "wallet.show.others": ADMIN,
    "wallet.deposit": ADMIN, "wallet.withdraw": ADMIN,
    # one's own account (workflows/account/): what anyone may read of their own, and their wallet
    "account.read": ANYONE, "account.wallet": ("investor", "issuer"),
    "withdrawal.request": ("investor", "issuer"), "withdrawal.review": ADMIN,
    "kyc.submit": ("investor", "issuer"), "kyc.review": REVIEWERS, "kyc.revoke": REVIEWERS,
    # businesses, tokens and their offering
    "business.register": ISSUER, "business.review": ADMIN, "business.read": ANYONE,
    "business.read.others": ADMIN,
    "token.create": ISSUER, "token.read": ANYONE, "token.deploy": ADMIN,
    "token.lifecycle": ADMIN, "token.trading_mode": ADMIN, "token.session_end": ADMIN,
    "token.halt": ADMIN, "token.protections": ADMIN, "token.compliance": ADMIN,
    "token.set_nav": ("admin", "issuer"), "token.set_nav.others": ADMIN,
    "token.subscribe": INVESTOR, "offering.confirm_payment": ADMIN,
    "allocation.read": ADMIN, "allocation.reject": ADMIN, "mint.retry": ADMIN,
    "offering.cancel": ADMIN, "offering.window": ADMIN,
    # trading
    "market.read": ANYONE, "order.place": INVESTOR, "order.read": ANYONE, "order.read.others": ADMIN,
    "order.cancel": ("investor", "admin"), "order.cancel.others": ADMIN,
    "order.cancel_all": INVESTOR, "order.amend": INVESTOR, "order.cancel_all_after": INVESTOR,
    "order.expire": JOBS,
    "otc.read": ADMIN, "otc.review": ADMIN, "otc.cancel": INVESTOR,
    "settlement.read": ADMIN, "settlement.retry": ADMIN,
    # market surveillance: alerts name users and their orders (workflows/surveillance.py)
    "surveillance.read": ADMIN, "surveillance.triage": ADMIN,
    # dividends
    "dividend.declare": ISSUER, "dividend.submit": ISSUER, "dividend.read": ("admin", "issuer"),
    "dividend.read.others": ADMIN,
    "dividend.approve": ADMIN, "dividend.cancel": ("admin", "issuer"), "dividend.cancel.others": ADMIN,
    "dividend.distribute": ADMIN, "dividend.retry": ADMIN, "dividend.snapshot": JOBS,
    # the holder register (transfer agent's record): names, countries, positions
    "token.holders": ("admin", "issuer"), "token.holders.others": ADMIN,
    # the audit log
    "audit.verify": JOBS, "audit.read": ADMIN,
    # four-eyes: severe operations wait for a second admin (workflows/approvals.py)
    "approval.read": ADMIN, "approval.approve": ADMIN, "approval.reject": ADMIN,
    # agent operations on holders (workflows/holders/): forced transfer, burn and recovery
    # are four-eyes requests (workflows/approvals.py)
    "holder.read": ADMIN, "holder.freeze": ADMIN, "holder.retry": ADMIN,
    "holder.force_transfer": ADMIN, "holder.recover": ADMIN, "token.burn": ADMIN,
    # token withdrawals (workflows/custody.py): the investor asks, an admin approves
    "token_withdrawal.request": ("investor",), "token_withdrawal.approve": ADMIN,
    "token_deposit.request": ("investor",),
    "token.redeem": ADMIN,
    # notifications and webhooks (workflows/notifications.py, workflows/webhooks/): one's own
    "notification.read": ANYONE, "webhook.manage": ANYONE, "webhook.deliver": JOBS,
    # the console
    "console.open": ("admin", "issuer", "kyc_reviewer"),
}


# WebSocket channels (server/routes/stream.py serves these kinds and no other): a public one is
# <kind>:<token symbol> for any authenticated user, a private one <kind>:<user id> for that user.
PUBLIC_CHANNELS = ("book", "trades")
PRIVATE_CHANNELS = ("orders", "notifications")
CHANNELS = PUBLIC_CHANNELS + PRIVATE_CHANNELS


def may_subscribe(user_id: str, channel: str) -> bool:
    """Public channels (book, trades) are anyone's; a private one is its user's alone; a kind
    the policy does not name is no one's."""
    kind, _, owner = channel.partition(":")
    if kind in PRIVATE_CHANNELS:
        return owner == user_id
    return kind in PUBLIC_CHANNELS


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that may take an action (KeyError for an action nobody declared)."""
    return ACTIONS[action]


def may(actor: Actor, action: str) -> bool:
    """Whether the actor's role may take the action."""
    return actor.role in roles_for(action)


def require(actor: Actor, action: str) -> None:
    """Raise PermissionDenied unless the actor's role may take the action."""
    roles = roles_for(action)
    if actor.role not in roles:
        raise PermissionDenied(
            f"{actor.email} ({actor.role}) may not do this ({action}); needs role {' or '.join(roles)}")
