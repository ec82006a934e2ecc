"""Prometheus metrics of one server process, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Orders, trades, latency, group sizes and commit times, queue depth, settlement backlog,
    rate-limit refusals."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.orders = Counter("alef_orders_total", "Orders received, by outcome",
                              ["outcome"], registry=self.registry)
        self.trades = Counter("alef_trades_total", "Trades executed", registry=self.registry)
        self.order_latency = Histogram(
            "alef_order_latency_seconds", "Order placement latency, request to commit",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry)
        self.group_size = Histogram(
            "alef_order_group_size", "Order commands committed per transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=self.registry)
        self.commit_time = Histogram(
            "alef_order_commit_seconds",
            "Time to COMMIT an order group: mostly the database's write-ahead log flush (fsync)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry)
        self.queue_depth = Gauge("alef_order_queue_depth",
                                 "Order commands waiting for the order writer", registry=self.registry)
        self.rate_limited = Counter("alef_rate_limited_total", "Requests and WebSocket messages"
                                    " refused for their user's rate limit, by budget",
                                    ["budget"], registry=self.registry)
        self.rate_limit_check = Histogram(
            "alef_rate_limit_check_seconds",
            "Time of each rate-limit statement: what it adds to the requests it checks together",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=self.registry)
        self.settlement_backlog = Gauge("alef_settlement_backlog", "Trades awaiting settlement",
                                        registry=self.registry)
