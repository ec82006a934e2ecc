"""Dividends: declaration (holder snapshot), review (four-eyes approval), distribution (payment)."""
