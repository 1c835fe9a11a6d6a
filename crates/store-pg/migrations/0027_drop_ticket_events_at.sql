-- No query reads ticket events by time: a ticket's events are read by
-- (ticket_id, seq) and the export's by id. The index cost every event a
-- second insert at a scattered place (about 8% of storing the demo's
-- tickets on SQLite) and a tenth of the events' space.
DROP INDEX ticket_events_at;
