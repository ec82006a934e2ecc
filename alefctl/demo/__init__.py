"""`alefctl demo`: the platform's lifecycle as a scripted scenario on the configured parts.

Each run uses a fresh tag (in emails and the token symbol) so that it can be repeated on the
same database and chain. Stages, in order: people and money; KYC, business and token; primary
offering with on-chain allocation; trading through the HTTP API of an in-process server;
on-chain settlement, a fiat dividend, and a final reconcile and check that must come out clean.
"""

from alefctl.demo.report import DemoReport
from alefctl.demo.run import run_demo

__all__ = ["DemoReport", "run_demo"]
