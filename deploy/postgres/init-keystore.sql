-- Runs once, when the compose PostgreSQL volume is first initialised (as POSTGRES_USER, which
-- then owns it). The keystore is a database of its own: it is backed up separately from the
-- orders database, with short retention (deploy/README.md).
CREATE DATABASE ordersync_keystore;
