-- Every order group reads the open sells of a token's frozen wallets before it matches
-- (alefctl/workflows/trading/frozen.py). Frozen wallets are few: this partial index finds them
-- without reading the token's wallets or open orders. is_frozen rarely changes, so trades'
-- balance updates stay HOT (migration 0002).
CREATE INDEX IF NOT EXISTS wallets_frozen ON wallets (token_id) WHERE is_frozen;
