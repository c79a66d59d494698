-- Webhook dedupe records expire (the purge sweep deletes old ones); this keeps that cheap.
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);
