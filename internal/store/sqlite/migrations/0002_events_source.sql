-- The latest events of each source (the web UI's overview) without reading every event.
CREATE INDEX events_source_received ON events (source, received_at DESC, id DESC);
