"""Pure in-memory matching engine: one price-time priority book per token.

Standard library only; no I/O, no clock (time is passed in).
"""

from engine.book import OrderBook
from engine.constants import (
    MAX_PRICE,
    CancelReason,
    OrderType,
    RejectReason,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from engine.events import (
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderReduced,
    OrderRejected,
    StopTriggered,
    Trade,
    named,
)
from engine.marketdata import Depth, DepthLevel
from engine.protections import (
    CircuitBreaker,
    MarketProtections,
    ProtectionConfig,
    ProtectionRefusal,
    fat_finger_refusal,
    nav_deviation_refusal,
)
from engine.snapshot import BookSnapshot, BookStateError, PendingStop, RestingOrder
from engine.surveillance import Alert, Surveillance, SurveillanceConfig

__all__ = [
    "MAX_PRICE",
    "Alert",
    "CircuitBreaker",
    "MarketProtections",
    "ProtectionConfig",
    "ProtectionRefusal",
    "Surveillance",
    "SurveillanceConfig",
    "fat_finger_refusal",
    "nav_deviation_refusal",
    "BookSnapshot",
    "BookStateError",
    "CancelReason",
    "Depth",
    "DepthLevel",
    "Event",
    "OrderAccepted",
    "OrderBook",
    "OrderCancelled",
    "OrderReduced",
    "OrderRejected",
    "OrderType",
    "PendingStop",
    "RejectReason",
    "RestingOrder",
    "SelfTradePrevention",
    "Side",
    "StopTriggered",
    "TimeInForce",
    "Trade",
    "named",
]
