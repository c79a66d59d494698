-- Claims per sink connection (each target's deliveries run in their own pipeline).
CREATE INDEX deliveries_sink_due ON deliveries (sink_connection_id, status, next_attempt_at);
