"""Webhooks: subscriptions (subscriptions.py), their target rule (targets.py), signing
(signing.py) and the deliverer draining the outbox (delivery.py)."""
