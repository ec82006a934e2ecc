"""Settings: flags, then ALEF_* environment variables, then a TOML file, then defaults.

Nested sections read from variables split once on the first underscore after the prefix:
ALEF_DATABASE_URL is database.url, ALEF_CHAIN_RPC_URL is chain.rpc_url.
The TOML file is ALEF_CONFIG, else <home>/config.toml when it exists.
"""

from __future__ import annotations

import os
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "ALEF_"


def default_home() -> Path:
    """The per-user data directory used when ALEF_HOME is not set."""
    return platformdirs.user_data_path("alefctl")


class DatabaseSettings(BaseModel):
    """Where the data lives."""

    url: SecretStr | None = Field(
        None, description="PostgreSQL URL; unset means the embedded server in <home>/pgdata"
    )
    pool_size: int = Field(5, ge=1, description="connections kept open per process")
    connect_timeout_s: int = Field(10, ge=1, description="seconds to wait for a connection")


class ChainSettings(BaseModel):
    """Which EVM node to use and who signs."""

    rpc_url: str | None = Field(
        None, description="JSON-RPC URL (anvil, Polygon); unset means the embedded EVM"
    )
    private_key: SecretStr | None = Field(
        None, description="signer key; unset means the dev key, accepted on dev chains only"
    )
    key_file: Path | None = Field(None, description="file holding the signer key")
    receipt_timeout_s: float = Field(120.0, gt=0, description="seconds to wait for a receipt")
    gas_limit_deploy: int = Field(3_000_000, gt=0, description="gas limit per contract deploy")
    gas_limit_call: int = Field(300_000, gt=0, description="gas limit per contract call")


class SecuritySettings(BaseModel):
    """Keys that protect personal data."""

    encryption_key: SecretStr | None = Field(
        None, description="Fernet key for KYC documents; unset means <home>/secret.key"
    )


class TradingSettings(BaseModel):
    """Platform-wide trading rules."""

    default_fee_bps: int = Field(50, ge=0, le=10_000, description="trade fee of a new token in"
                                 " basis points (the platform's: issuers cannot set it)")
    limit_retail_usd: Decimal = Field(Decimal("500"), description="most a retail investor may"
                                      " invest per rolling 12 months (subscriptions and buys)")
    limit_professional_usd: Decimal = Field(Decimal("5000"), description="the same, professional")
    limit_institutional_usd: Decimal = Field(Decimal("50000"),
                                             description="the same, institutional")
    success_fee_pct: Decimal = Field(Decimal("2"), ge=0, le=100, description="% of raise")
    max_open_orders: int = Field(1000, ge=1, description="most open orders (and pending stops)"
                                 " one investor may have on one token")
    dividend_fee_pct: Decimal = Field(
        Decimal("1.00"), ge=0, le=100, decimal_places=2,
        description="platform fee on fiat and stablecoin dividends, % of each holder's gross"
        " (the platform's: issuers cannot set it; token dividends carry none)")


class ProtectionSettings(BaseModel):
    """Market protections: the defaults of every token without its own (`token protections`).
    A percentage of 0 switches that check off."""

    breaker_move_pct: Decimal = Field(
        Decimal("10"), ge=0, le=10_000, decimal_places=2, description="the circuit breaker halts"
        " a token whose trade prices move this many % within breaker_window_s")
    breaker_window_s: int = Field(300, ge=1, le=86_400, description="the circuit breaker's"
                                  " window, seconds")
    breaker_halt_s: int = Field(300, ge=1, le=604_800, description="how long a tripped circuit"
                                " breaker halts the token, seconds")
    fat_finger_pct: Decimal = Field(
        Decimal("10"), ge=0, le=10_000, decimal_places=2, description="a limit price this many %"
        " away from the last trade needs confirm_fat_finger")
    fat_finger_block_x: Decimal = Field(
        Decimal("3"), ge=1, le=1_000, decimal_places=2, description="a limit price more than this"
        " many times (or under 1/x of) the last trade is refused outright")
    nav_deviation_pct: Decimal = Field(
        Decimal("20"), ge=0, le=10_000, decimal_places=2, description="a limit price this many %"
        " away from the NAV needs confirm_nav_deviation")


class LifetimeSettings(BaseModel):
    """Order lifetime: day and good-till-date orders, the dead-man's switch (README, "The order
    API")."""

    session_end: time = Field(time(21, 0), description="UTC time at which DAY orders expire,"
                              " for a token without a session end of its own")
    max_expiry_days: int = Field(90, ge=1, le=3650, description="a GTD order's expire_at may be"
                                 " at most this many days ahead")
    max_cancel_all_after_s: int = Field(3600, ge=1, le=86_400, description="longest timeout of"
                                        " the cancel-all-after switch (POST"
                                        " /api/v1/orders/cancel-all-after), seconds")
    expiry_interval_s: float = Field(1.0, gt=0, le=60, description="how often `alefctl serve`"
                                     " expires due orders and fires lapsed switches, seconds")


class ApprovalSettings(BaseModel):
    """Four-eyes: which operations wait for a second admin."""

    money_threshold_usd: Decimal = Field(
        Decimal("10000"), gt=0, description="a fiat deposit or withdrawal of at least this many"
        " USD is a request that another admin must approve (alefctl approvals)")


class JobSettings(BaseModel):
    """When a background job counts as stuck (`alefctl check`, no_stuck_jobs; the console)."""

    settlement_stuck_minutes: int = Field(
        5, ge=1, description="a trade still pending or processing settlement this many minutes"
        " after it was made is stuck")
    mint_stuck_minutes: int = Field(
        15, ge=1, description="a confirmed allocation or paid token dividend still pending or"
        " minting this many minutes after its last change is stuck")


class DividendSettings(BaseModel):
    """Record dates and who is paid."""

    treasury_earns: bool = Field(False, description="whether the platform treasury's own holding"
                                 " of a token is paid its dividends (stated on each declaration)")
    snapshot_grace_s: float = Field(
        5.0, ge=0, description="seconds after a record date before its holders are snapshotted"
        " (a change made just before it may still be committing)")
    snapshot_interval_s: float = Field(30.0, gt=0, description="how often `alefctl serve` takes"
                                       " the snapshots of record dates that have passed")


class ServerSettings(BaseModel):
    """The long-running alefctl serve process."""

    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8080, ge=1, le=65535, description="port to listen on")
    settlement_interval_s: float = Field(5.0, gt=0, description="settlement loop period")
    settlement_loop: bool = Field(True, description="run the settlement processor in the server")
    settlement_batch_size: int = Field(10, ge=1, description="trades per settlement batch")
    group_commit: bool = Field(True, description="commit many orders per transaction")
    max_group: int = Field(256, ge=1, description="most orders in one group transaction")
    writer_process: bool = Field(True, description="run the order writer (books, matching, group"
                                 " commits) in a process of its own, not a thread of the server")
    access_log: bool = Field(False, description="log every HTTP request (metrics count them anyway)")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="largest request body; a larger"
                                " one is refused (413) before it is read, on every route")
    ws_max_subscriptions: int = Field(50, ge=1, description="most channels one WebSocket"
                                      " connection may subscribe to")


class RateLimitSettings(BaseModel):
    """Per-user rate limits of the HTTP API and WebSocket: token buckets kept in the database,
    shared by every server process (alefctl/workflows/rate_limits.py)."""

    enabled: bool = Field(True, description="refuse requests over a user's rate (429)")
    orders_per_s: int = Field(50, ge=1, le=1_000_000, description="order entry requests (place,"
                              " cancel, amend, OTC) per second per user; `alefctl user"
                              " rate-limit` gives one user another rate")
    reads_per_s: int = Field(50, ge=1, le=1_000_000, description="every other API request, and"
                             " each WebSocket message, per second per user")
    burst_s: float = Field(2.0, ge=1, le=3600, description="a bucket holds this many seconds of"
                           " its rate: what a quiet client may send at once")
    refusal_pause_s: float = Field(0.2, ge=0, le=5, description="a refusal is answered after"
                                   " this pause (at most the time to the next token): a client"
                                   " that sends again at once is slowed to a few requests a"
                                   " second per connection, instead of costing a refusal each")


class AccountSettings(BaseModel):
    """Investors' self-service account API (/api/v1/me)."""

    wallet_proof_max_age_s: int = Field(
        600, ge=30, le=86_400, description="a signed wallet registration message is accepted"
        " this many seconds after the time it names, and not later")


class DepositSettings(BaseModel):
    """How investors fund their account (GET /api/v1/me/deposit-instructions)."""

    bank_details: str | None = Field(
        None, description="where investors wire USD (bank, account name, IBAN, SWIFT), shown"
        " with their deposit reference; unset: the answer says to ask the platform")
    usdc_address: str | None = Field(
        None, description="the platform's address that receives investors' USDC")
    usdc_network: str = Field("Polygon", description="the chain of usdc_address")


class WebhookSettings(BaseModel):
    """Webhook deliveries of notifications (alefctl/workflows/webhooks/)."""

    allow_private_targets: bool = Field(False, description="accept webhook URLs on private,"
                                        " loopback and link-local addresses (tests, on-premise)")
    deliver_loop: bool = Field(True, description="deliver webhooks in `alefctl serve`")
    interval_s: float = Field(1.0, gt=0, le=3600, description="period of the server's deliverer")
    timeout_s: float = Field(5.0, gt=0, le=60, description="seconds a receiver has to answer")
    backoff_base_s: float = Field(5.0, gt=0, le=3600, description="wait after a first failed"
                                  " attempt; doubled after each further failure")
    backoff_max_s: float = Field(3600.0, gt=0, le=86_400, description="longest wait between"
                                 " attempts")
    max_failures: int = Field(10, ge=1, le=1000, description="failed attempts in a row after"
                              " which a subscription is disabled")


class Settings(BaseSettings):
    """Every setting of alefctl, built once per process and passed down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    home: Path = Field(default_factory=default_home, description="data directory")
    api_key: SecretStr | None = Field(
        None, description="API key commands and the console act with (cron, scripts); unset: the"
        " credentials file written by `alefctl login`")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    chain: ChainSettings = Field(default_factory=ChainSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    trading: TradingSettings = Field(default_factory=TradingSettings)
    lifetime: LifetimeSettings = Field(default_factory=LifetimeSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    protections: ProtectionSettings = Field(default_factory=ProtectionSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    ratelimit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    account: AccountSettings = Field(default_factory=AccountSettings)
    dividends: DividendSettings = Field(default_factory=DividendSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    deposits: DepositSettings = Field(default_factory=DepositSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    @property
    def config_file(self) -> Path | None:
        """The TOML file these settings were read from, if any."""
        toml_file = self.model_config.get("toml_file")
        return Path(toml_file) if toml_file else None  # type: ignore[arg-type]

    @property
    def pgdata(self) -> Path:
        """Directory of the embedded PostgreSQL cluster."""
        return self.home / "pgdata"

    @property
    def credentials_file(self) -> Path:
        """Where `alefctl login` keeps the API key of this data directory's user."""
        return self.home / "credentials"

    @property
    def chain_dir(self) -> Path:
        """Directory of the embedded EVM's state."""
        return self.home / "chain"


def config_file_path(explicit: Path | None = None, home: Path | None = None) -> Path | None:
    """The TOML file to read: explicit, else ALEF_CONFIG, else <home>/config.toml if present."""
    if explicit is not None:
        return explicit
    if os.environ.get("ALEF_CONFIG"):
        return Path(os.environ["ALEF_CONFIG"])
    candidate = (home or Path(os.environ.get("ALEF_HOME") or default_home())) / "config.toml"
    return candidate if candidate.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once: flags (overrides) > environment > TOML file > defaults."""
    home = overrides.get("home")
    path = config_file_path(config_file, Path(home) if home else None)
    settings_cls: type[Settings] = Settings
    if path is not None:
        if not path.is_file():
            from alefctl.errors import InvalidInput

            raise InvalidInput(f"config file not found: {path}", field="config")
        config = SettingsConfigDict(**{**Settings.model_config, "toml_file": path})
        settings_cls = type("FileSettings", (Settings,), {"model_config": config})
    return settings_cls(**{k: v for k, v in overrides.items() if v is not None})


def describe_settings(settings: Settings, flags: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows (dotted name, shown value, source) with secrets masked (secret settings entirely,
    credentials in any other value, such as the provider key in chain.rpc_url: redact.py);
    source is where it came from."""
    from alefctl.redact import mask_secrets

    file_values = _read_toml(settings.config_file)
    rows: list[tuple[str, str, str]] = []
    for name, value in _leaves(settings.model_dump()):
        env_name = ENV_PREFIX + name.replace(".", "_").upper()
        if flags.get(name) is not None:
            source = "flag"
        elif env_name in os.environ:
            source = f"env {env_name}"
        elif _lookup(file_values, name) is not None:
            source = f"file {settings.config_file}"
        else:
            source = "default"
        rows.append((name, "" if value is None else mask_secrets(str(value)), source))
    return rows


def _leaves(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.extend(_leaves(value, f"{prefix}{key}."))
        else:
            rows.append((prefix + key, value))
    return rows


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import tomllib

    return tomllib.loads(path.read_text())


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data
