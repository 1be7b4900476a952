-- name: local_tables_replaced
-- description: The embedded engine's classification and events views dropped, to be replaced by tables of the rows the warehouse computed (forensics/pushdown_full.py).
DROP VIEW IF EXISTS classification;
DROP VIEW IF EXISTS events;
