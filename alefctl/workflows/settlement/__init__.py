"""Settlement of trades: the queue in the database, per-token locks, on-chain transfers, runs, admin."""
