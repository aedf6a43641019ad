"""order documents: the lookup's read model, kept by triggers (PostgreSQL only)

Revision ID: a41c7d2e9b05
Revises: 3c1a9e5d7b42
Create Date: 2026-12-02 20:00:00.000000

The statements are a frozen copy of crm_backend.orders.documents.schema_statements() and
drop_statements() at this revision (a test compares them with the code). SQLite has no
read model: the ORM renders orders there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a41c7d2e9b05"
down_revision: str | None = "3c1a9e5d7b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing orders are rendered in chunks of ids, so no statement holds a huge array.
BACKFILL_CHUNK = 50_000

SCHEMA_STATEMENTS = [
    "CREATE TABLE order_documents ( order_id integer PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE, number varchar(20) NOT NULL, email varchar(320) NOT NULL, customer_id integer NOT NULL, status varchar(20) NOT NULL, delivered_at timestamptz, document bytea NOT NULL)",
    "CREATE UNIQUE INDEX uq_order_documents_number ON order_documents (number)",
    "CREATE FUNCTION order_documents_render(order_ids integer[]) RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$ BEGIN INSERT INTO order_documents (order_id, number, email, customer_id, status, delivered_at, document) SELECT o.id, o.number, o.email, o.customer_id, o.status, greatest(s.delivered, h.delivered), convert_to(json_build_object('number', o.number, 'customer_id', o.customer_id, 'status', o.status, 'currency', o.currency, 'total_cents', o.total_cents, 'placed_at', (replace(to_char(o.placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'email', o.email, 'shipping_address', json_build_object('name', o.shipping_address -> 'name', 'line1', o.shipping_address -> 'line1', 'line2', o.shipping_address -> 'line2', 'city', o.shipping_address -> 'city', 'postal_code', o.shipping_address -> 'postal_code', 'country', o.shipping_address -> 'country'), 'items', i.list, 'shipments', s.list, 'status_history', h.list, 'returns', r.list, 'refunds', f.list)::text, 'UTF8') FROM orders o CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('sku', x.sku, 'name', x.name, 'quantity', x.quantity, 'unit_price_cents', x.unit_price_cents) ORDER BY x.id), '[]') AS list FROM order_items x WHERE x.order_id = o.id) i CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('carrier', x.carrier, 'tracking_number', x.tracking_number, 'tracking_url', x.tracking_url, 'estimated_delivery', to_char(x.estimated_delivery, 'YYYY-MM-DD'), 'shipped_at', (replace(to_char(x.shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'delivered_at', (replace(to_char(x.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z')) ORDER BY x.id), '[]') AS list, max(x.delivered_at) AS delivered FROM shipments x WHERE x.order_id = o.id) s CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('status', x.status, 'changed_at', (replace(to_char(x.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'note', x.note) ORDER BY x.id), '[]') AS list, max(x.changed_at) FILTER (WHERE x.status = 'delivered') AS delivered FROM order_status_changes x WHERE x.order_id = o.id) h CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('number', x.number, 'status', x.status, 'reason', x.reason, 'items', x.items, 'requested_at', (replace(to_char(x.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'received_at', (replace(to_char(x.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'resolved_at', (replace(to_char(x.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z')) ORDER BY x.id), '[]') AS list FROM order_returns x WHERE x.order_id = o.id) r CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('id', x.id, 'amount_cents', x.amount_cents, 'currency', x.currency, 'status', x.status, 'reason', x.reason, 'created_at', (replace(to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'completed_at', (replace(to_char(x.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z')) ORDER BY x.id), '[]') AS list FROM refunds x WHERE x.order_id = o.id) f WHERE o.id = ANY(order_ids) ON CONFLICT (order_id) DO UPDATE SET number = excluded.number, email = excluded.email, customer_id = excluded.customer_id, status = excluded.status, delivered_at = excluded.delivered_at, document = excluded.document; END $$",
    "CREATE FUNCTION order_documents_refresh(order_ids integer[]) RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$ BEGIN IF cardinality(order_ids) = 0 THEN RETURN; END IF; PERFORM 1 FROM orders WHERE id = ANY(order_ids) ORDER BY id FOR NO KEY UPDATE; INSERT INTO order_documents (order_id, number, email, customer_id, status, delivered_at, document) SELECT o.id, o.number, o.email, o.customer_id, o.status, greatest(s.delivered, h.delivered), convert_to(json_build_object('number', o.number, 'customer_id', o.customer_id, 'status', o.status, 'currency', o.currency, 'total_cents', o.total_cents, 'placed_at', (replace(to_char(o.placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'email', o.email, 'shipping_address', json_build_object('name', o.shipping_address -> 'name', 'line1', o.shipping_address -> 'line1', 'line2', o.shipping_address -> 'line2', 'city', o.shipping_address -> 'city', 'postal_code', o.shipping_address -> 'postal_code', 'country', o.shipping_address -> 'country'), 'items', i.list, 'shipments', s.list, 'status_history', h.list, 'returns', r.list, 'refunds', f.list)::text, 'UTF8') FROM orders o CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('sku', x.sku, 'name', x.name, 'quantity', x.quantity, 'unit_price_cents', x.unit_price_cents) ORDER BY x.id), '[]') AS list FROM order_items x WHERE x.order_id = o.id) i CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('carrier', x.carrier, 'tracking_number', x.tracking_number, 'tracking_url', x.tracking_url, 'estimated_delivery', to_char(x.estimated_delivery, 'YYYY-MM-DD'), 'shipped_at', (replace(to_char(x.shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'delivered_at', (replace(to_char(x.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z')) ORDER BY x.id), '[]') AS list, max(x.delivered_at) AS delivered FROM shipments x WHERE x.order_id = o.id) s CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('status', x.status, 'changed_at', (replace(to_char(x.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'note', x.note) ORDER BY x.id), '[]') AS list, max(x.changed_at) FILTER (WHERE x.status = 'delivered') AS delivered FROM order_status_changes x WHERE x.order_id = o.id) h CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('number', x.number, 'status', x.status, 'reason', x.reason, 'items', x.items, 'requested_at', (replace(to_char(x.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'received_at', (replace(to_char(x.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'resolved_at', (replace(to_char(x.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z')) ORDER BY x.id), '[]') AS list FROM order_returns x WHERE x.order_id = o.id) r CROSS JOIN LATERAL (SELECT coalesce(json_agg(json_build_object('id', x.id, 'amount_cents', x.amount_cents, 'currency', x.currency, 'status', x.status, 'reason', x.reason, 'created_at', (replace(to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'), 'completed_at', (replace(to_char(x.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z')) ORDER BY x.id), '[]') AS list FROM refunds x WHERE x.order_id = o.id) f WHERE o.id = ANY(order_ids) ON CONFLICT (order_id) DO UPDATE SET number = excluded.number, email = excluded.email, customer_id = excluded.customer_id, status = excluded.status, delivered_at = excluded.delivered_at, document = excluded.document; END $$",
    "CREATE FUNCTION order_documents_after_change_by_id() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE touched integer[]; BEGIN IF current_setting('crm.defer_order_documents', true) = 'on' THEN RETURN NULL; END IF; IF TG_OP = 'INSERT' THEN touched := ARRAY(SELECT DISTINCT id FROM new_rows); ELSIF TG_OP = 'UPDATE' THEN touched := ARRAY(SELECT id FROM new_rows UNION SELECT id FROM old_rows); ELSE touched := ARRAY(SELECT DISTINCT id FROM old_rows); END IF; PERFORM order_documents_refresh(touched); RETURN NULL; END $$",
    "CREATE FUNCTION order_documents_after_change_by_order_id() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE touched integer[]; BEGIN IF current_setting('crm.defer_order_documents', true) = 'on' THEN RETURN NULL; END IF; IF TG_OP = 'INSERT' THEN touched := ARRAY(SELECT DISTINCT order_id FROM new_rows); ELSIF TG_OP = 'UPDATE' THEN touched := ARRAY(SELECT order_id FROM new_rows UNION SELECT order_id FROM old_rows); ELSE touched := ARRAY(SELECT DISTINCT order_id FROM old_rows); END IF; PERFORM order_documents_refresh(touched); RETURN NULL; END $$",
    "CREATE TRIGGER order_documents_after_insert AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_id()",
    "CREATE TRIGGER order_documents_after_update AFTER UPDATE ON orders REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_id()",
    "CREATE TRIGGER order_documents_after_delete AFTER DELETE ON orders REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_id()",
    "CREATE TRIGGER order_documents_after_insert AFTER INSERT ON order_items REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_update AFTER UPDATE ON order_items REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_delete AFTER DELETE ON order_items REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_insert AFTER INSERT ON shipments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_update AFTER UPDATE ON shipments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_delete AFTER DELETE ON shipments REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_insert AFTER INSERT ON order_status_changes REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_update AFTER UPDATE ON order_status_changes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_delete AFTER DELETE ON order_status_changes REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_insert AFTER INSERT ON order_returns REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_update AFTER UPDATE ON order_returns REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_delete AFTER DELETE ON order_returns REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_insert AFTER INSERT ON refunds REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_update AFTER UPDATE ON refunds REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
    "CREATE TRIGGER order_documents_after_delete AFTER DELETE ON refunds REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_documents_after_change_by_order_id()",
]

DROP_STATEMENTS = [
    "DROP TRIGGER IF EXISTS order_documents_after_insert ON orders",
    "DROP TRIGGER IF EXISTS order_documents_after_update ON orders",
    "DROP TRIGGER IF EXISTS order_documents_after_delete ON orders",
    "DROP TRIGGER IF EXISTS order_documents_after_insert ON order_items",
    "DROP TRIGGER IF EXISTS order_documents_after_update ON order_items",
    "DROP TRIGGER IF EXISTS order_documents_after_delete ON order_items",
    "DROP TRIGGER IF EXISTS order_documents_after_insert ON shipments",
    "DROP TRIGGER IF EXISTS order_documents_after_update ON shipments",
    "DROP TRIGGER IF EXISTS order_documents_after_delete ON shipments",
    "DROP TRIGGER IF EXISTS order_documents_after_insert ON order_status_changes",
    "DROP TRIGGER IF EXISTS order_documents_after_update ON order_status_changes",
    "DROP TRIGGER IF EXISTS order_documents_after_delete ON order_status_changes",
    "DROP TRIGGER IF EXISTS order_documents_after_insert ON order_returns",
    "DROP TRIGGER IF EXISTS order_documents_after_update ON order_returns",
    "DROP TRIGGER IF EXISTS order_documents_after_delete ON order_returns",
    "DROP TRIGGER IF EXISTS order_documents_after_insert ON refunds",
    "DROP TRIGGER IF EXISTS order_documents_after_update ON refunds",
    "DROP TRIGGER IF EXISTS order_documents_after_delete ON refunds",
    "DROP FUNCTION IF EXISTS order_documents_after_change_by_id()",
    "DROP FUNCTION IF EXISTS order_documents_after_change_by_order_id()",
    "DROP FUNCTION IF EXISTS order_documents_refresh(integer[])",
    "DROP FUNCTION IF EXISTS order_documents_render(integer[])",
    "DROP TABLE IF EXISTS order_documents",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in SCHEMA_STATEMENTS:
        op.execute(statement)
    bounds = op.get_bind().execute(sa.text("SELECT min(id), max(id) FROM orders")).one()
    if bounds[0] is None:
        return
    for low in range(bounds[0], bounds[1] + 1, BACKFILL_CHUNK):
        op.get_bind().execute(
            sa.text(
                "SELECT order_documents_render(array(SELECT id FROM orders WHERE id >= :low AND id < :high))"
            ),
            {"low": low, "high": low + BACKFILL_CHUNK},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DROP_STATEMENTS:
        op.execute(statement)
