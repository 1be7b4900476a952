-- name: local_events_replaced
-- description: The embedded engine's `events` view (over no events here) dropped, to be replaced by a table of the statements that wrote, as the warehouse found them (forensics/pushdown_full.py).
DROP VIEW IF EXISTS events;
