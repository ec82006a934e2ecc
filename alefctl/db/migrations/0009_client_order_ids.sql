-- A resent client_order_id returns the original order whatever its state, for at least 24
-- hours after it was placed (alefctl/workflows/trading/group.py, CLIENT_ORDER_ID_WINDOW): the
-- order group looks each (investor, client_order_id) up among all orders, newest first, in
-- its one round trip. The unique index on open orders (schema.sql) stays the database's
-- guarantee of one open order per key; this one also finds filled and cancelled orders.
-- OTC orders (tokens at a fixed price, executed by an admin) keep their client_order_id too,
-- so that a retry never queues a second request (alefctl/workflows/otc.py).
CREATE INDEX IF NOT EXISTS orders_client_order_id ON orders (user_id, client_order_id, created_at)
    WHERE client_order_id IS NOT NULL;
ALTER TABLE otc_orders ADD COLUMN IF NOT EXISTS client_order_id VARCHAR(64);
CREATE INDEX IF NOT EXISTS otc_orders_client_order_id
    ON otc_orders (user_id, client_order_id, created_at) WHERE client_order_id IS NOT NULL;
