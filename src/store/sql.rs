//! The SQL shared by both dialects. `impl_store!` expands to a `Store` implementation for a
//! pool type; the only dialect-specific text is passed in (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, nothing on SQLite, whose single writer serialises claims anyway).

/// Columns of `connections` read into `ConnectionRow`.
macro_rules! conn_cols {
    () => {
        "id, merchant_id, kind, role, name, config, secrets_ct, state, next_pull_at, last_pull_at, last_error, created_at, version, build_version"
    };
}
pub(crate) use conn_cols;

/// ` AND (…)`: the orders an [`EraseScope`](super::EraseScope) names (nothing for `All`).
pub(crate) fn push_scope<DB: sqlx::Database>(
    qb: &mut sqlx::QueryBuilder<DB>,
    scope: &super::EraseScope,
) where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let super::EraseScope::Orders {
        external_ids,
        email_bidx,
        buyer_bidx,
    } = scope
    else {
        return;
    };
    // Only the terms present, joined by OR (no `1 = 0 OR …` prefix): SQLite then searches an
    // index per term (`orders_conn_bidx` for the email) instead of scanning the connection.
    let mut terms = 0;
    let mut next = |qb: &mut sqlx::QueryBuilder<DB>| {
        qb.push(if terms == 0 { " AND (" } else { " OR " });
        terms += 1;
    };
    if !external_ids.is_empty() {
        next(qb);
        qb.push("external_id IN (");
        let mut sep = qb.separated(", ");
        // Shopify names a handful; the cap keeps the statement's parameters bounded.
        for e in external_ids.iter().take(1000) {
            sep.push_bind(e.clone());
        }
        sep.push_unseparated(")");
    }
    if let Some(b) = email_bidx {
        next(qb);
        qb.push("email_bidx = ").push_bind(b.clone());
    }
    if let Some(b) = buyer_bidx {
        next(qb);
        qb.push("buyer_bidx = ").push_bind(b.clone());
    }
    // Nothing named: nothing matches.
    qb.push(if terms == 0 { " AND (1 = 0)" } else { ")" });
}

macro_rules! impl_store {
    ($store:ident, $db:ty, $skip_locked:literal, $dialect:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn dialect(&self) -> &'static str {
                $dialect
            }

            async fn migrate(&self) -> anyhow::Result<()> {
                Self::MIGRATOR.run(&self.pool).await?;
                Ok(())
            }

            async fn db_now_us(&self) -> StoreResult<i64> {
                // SQLite's clock is this host's: one host is all it serves.
                let sql = if $dialect == "postgres" {
                    "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
                } else {
                    "SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"
                };
                sqlx::query_scalar(sql).fetch_one(&self.pool).await
            }

            async fn rejected_external_ids(&self, connection_id: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar("SELECT external_id FROM rejected_orders WHERE connection_id = $1 ORDER BY external_id")
                    .bind(connection_id).fetch_all(&self.pool).await
            }

            async fn try_singleton(&self, name: &str) -> StoreResult<Option<$crate::store::SingletonGuard>> {
                if $dialect != "postgres" {
                    return Ok(Some(Box::new(())));
                }
                let mut tx = self.pool.begin().await?;
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
                    .bind(name.to_string()).fetch_one(&mut *tx).await?;
                Ok(got.then(|| Box::new(tx) as $crate::store::SingletonGuard))
            }

            fn listen_work(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> bool {
                listen_work_on(&self.pool, wake)
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
            }

            async fn recorded_keystore_id(&self) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT keystore_id FROM instance WHERE id = 1").fetch_optional(&self.pool).await
            }

            async fn record_keystore_id(&self, keystore_id: &str, now: i64) -> StoreResult<String> {
                sqlx::query("INSERT INTO instance (id, keystore_id, recorded_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
                    .bind(keystore_id).bind(now).execute(&self.pool).await?;
                sqlx::query_scalar("SELECT keystore_id FROM instance WHERE id = 1").fetch_one(&self.pool).await
            }

            async fn sealed_sample(&self) -> StoreResult<Option<$crate::store::SealedSample>> {
                let order: Option<String> = sqlx::query_scalar("SELECT id FROM orders WHERE pii_dek IS NOT NULL AND pii_ct IS NOT NULL AND pii_epoch IS NOT NULL LIMIT 1")
                    .fetch_optional(&self.pool).await?;
                if let Some(id) = order {
                    return Ok(Some($crate::store::SealedSample::Order(id)));
                }
                let conn: Option<String> = sqlx::query_scalar("SELECT id FROM connections WHERE secrets_ct IS NOT NULL AND secrets_ct <> '' LIMIT 1")
                    .fetch_optional(&self.pool).await?;
                Ok(conn.map($crate::store::SealedSample::Connection))
            }

            async fn create_merchant_scoped(&self, id: &str, name: &str, token_hash: &str, scopes: &str, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO merchants (id, name, created_at) VALUES ($1, $2, $3)").bind(id).bind(name).bind(now).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO api_tokens (token_hash, merchant_id, created_at, scopes) VALUES ($1, $2, $3, $4)").bind(token_hash).bind(id).bind(now).bind(scopes).execute(&mut *tx).await?;
                tx.commit().await
            }

            async fn merchant_by_token(&self, token_hash: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT t.merchant_id FROM api_tokens t JOIN merchants m ON m.id = t.merchant_id WHERE t.token_hash = $1 AND m.terminated_at IS NULL")
                    .bind(token_hash).fetch_optional(&self.pool).await
            }

            async fn token_grant(&self, token_hash: &str) -> StoreResult<Option<(String, String)>> {
                sqlx::query_as("SELECT t.merchant_id, t.scopes FROM api_tokens t JOIN merchants m ON m.id = t.merchant_id WHERE t.token_hash = $1 AND m.terminated_at IS NULL")
                    .bind(token_hash).fetch_optional(&self.pool).await
            }

            async fn merchant_active(&self, merchant_id: &str) -> StoreResult<bool> {
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM merchants WHERE id = $1 AND terminated_at IS NULL)")
                    .bind(merchant_id).fetch_one(&self.pool).await
            }

            async fn terminate_merchant(&self, merchant_id: &str, now: i64) -> StoreResult<Option<u64>> {
                let mut tx = self.pool.begin().await?;
                let found = sqlx::query("UPDATE merchants SET terminated_at = COALESCE(terminated_at, $2) WHERE id = $1")
                    .bind(merchant_id).bind(now).execute(&mut *tx).await?.rows_affected();
                if found == 0 {
                    return Ok(None);
                }
                sqlx::query("DELETE FROM api_tokens WHERE merchant_id = $1").bind(merchant_id).execute(&mut *tx).await?;
                sqlx::query("UPDATE deliveries SET status = 'dead', last_error = 'permanent: the merchant was terminated', lease_owner = NULL, lease_until = NULL, next_track_at = NULL \
                    WHERE merchant_id = $1 AND status IN ('pending', 'in_flight')")
                    .bind(merchant_id).execute(&mut *tx).await?;
                let n = sqlx::query("UPDATE orders SET pii_ct = NULL, pii_dek = NULL, email_bidx = NULL, buyer_bidx = NULL, pii_fields = 0, content_hash = '', pii_purged_at = $2, \
                    legal_hold_at = NULL, legal_hold_until = NULL, legal_hold_basis = NULL WHERE merchant_id = $1 AND pii_purged_at IS NULL")
                    .bind(merchant_id).bind(now).execute(&mut *tx).await?.rows_affected();
                sqlx::query("INSERT INTO audit_log (id, merchant_id, at, actor, action, subject, detail) VALUES ($1, $2, $3, 'operator', 'merchant.terminated', $2, $4)")
                    .bind(uuid::Uuid::now_v7().to_string()).bind(merchant_id).bind(now).bind(format!("PII of {n} orders deleted"))
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(Some(n))
            }

            async fn delete_terminated(&self, before: i64) -> StoreResult<u64> {
                let gone: Vec<String> = sqlx::query_scalar("SELECT id FROM merchants WHERE terminated_at IS NOT NULL AND terminated_at < $1")
                    .bind(before).fetch_all(&self.pool).await?;
                let mut orders = 0;
                for m in gone {
                    let mut tx = self.pool.begin().await?;
                    sqlx::query("DELETE FROM deliveries WHERE merchant_id = $1").bind(&m).execute(&mut *tx).await?;
                    orders += sqlx::query("DELETE FROM orders WHERE merchant_id = $1").bind(&m).execute(&mut *tx).await?.rows_affected();
                    // What hangs on its connections, then the connections themselves.
                    for q in [
                        "DELETE FROM rejected_orders WHERE connection_id IN (SELECT id FROM connections WHERE merchant_id = $1)",
                        "DELETE FROM webhook_events WHERE connection_id IN (SELECT id FROM connections WHERE merchant_id = $1)",
                        "DELETE FROM cursors WHERE connection_id IN (SELECT id FROM connections WHERE merchant_id = $1)",
                        "DELETE FROM track_feeds WHERE connection_id IN (SELECT id FROM connections WHERE merchant_id = $1)",
                        "DELETE FROM routes WHERE merchant_id = $1",
                        "DELETE FROM retention_policies WHERE merchant_id = $1",
                        "DELETE FROM dsr_requests WHERE merchant_id = $1",
                        "DELETE FROM connections WHERE merchant_id = $1",
                    ] {
                        sqlx::query(q).bind(&m).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
                Ok(orders)
            }

            async fn add_scoped_token(&self, merchant_id: &str, token_hash: &str, scopes: &str, now: i64) -> StoreResult<()> {
                sqlx::query("INSERT INTO api_tokens (token_hash, merchant_id, created_at, scopes) VALUES ($1, $2, $3, $4)")
                    .bind(token_hash).bind(merchant_id).bind(now).bind(scopes).execute(&self.pool).await.map(|_| ())
            }

            async fn list_scoped_tokens(&self, merchant_id: &str) -> StoreResult<Vec<(String, i64, String)>> {
                sqlx::query_as("SELECT substr(token_hash, 1, 16), created_at, scopes FROM api_tokens WHERE merchant_id = $1 ORDER BY created_at, token_hash")
                    .bind(merchant_id).fetch_all(&self.pool).await
            }

            async fn revoke_token(&self, merchant_id: &str, token_id: &str) -> StoreResult<bool> {
                let n = sqlx::query("DELETE FROM api_tokens WHERE merchant_id = $1 AND substr(token_hash, 1, 16) = $2")
                    .bind(merchant_id).bind(token_id).execute(&self.pool).await?.rows_affected();
                Ok(n > 0)
            }

            async fn insert_connection(&self, c: &ConnectionRow) -> StoreResult<()> {
                sqlx::query("INSERT INTO connections (id, merchant_id, kind, role, name, config, secrets_ct, state, next_pull_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&c.id).bind(&c.merchant_id).bind(&c.kind).bind(&c.role).bind(&c.name).bind(&c.config).bind(&c.secrets_ct).bind(&c.state).bind(c.next_pull_at).bind(c.created_at)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn get_connection(&self, id: &str) -> StoreResult<Option<ConnectionRow>> {
                sqlx::query_as(concat!("SELECT ", conn_cols!(), " FROM connections WHERE id = $1")).bind(id).fetch_optional(&self.pool).await
            }

            async fn list_connections(&self, merchant_id: &str) -> StoreResult<Vec<ConnectionRow>> {
                sqlx::query_as(concat!("SELECT ", conn_cols!(), " FROM connections WHERE merchant_id = $1 ORDER BY id")).bind(merchant_id).fetch_all(&self.pool).await
            }

            async fn update_connection(&self, c: &ConnectionRow) -> StoreResult<()> {
                // A rename alone changes nothing a process acts on.
                sqlx::query("UPDATE connections SET name = $2, config = $3, state = $4, \
                    version = CASE WHEN config = $3 AND state = $4 THEN version ELSE version + 1 END, \
                    build_version = CASE WHEN config = $3 THEN build_version ELSE build_version + 1 END WHERE id = $1")
                    .bind(&c.id).bind(&c.name).bind(&c.config).bind(&c.state).execute(&self.pool).await.map(|_| ())
            }

            async fn delete_connection(&self, id: &str) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM routes WHERE source_connection_id = $1 OR sink_connection_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM cursors WHERE connection_id = $1").bind(id).execute(&mut *tx).await?;
                let n = sqlx::query("UPDATE connections SET state = 'deleted', secrets_ct = NULL, version = version + 1, build_version = build_version + 1 WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
                // Nothing claims a deleted sink's deliveries again: the queued ones end (they
                // would hold their orders' PII past its purge) and tracking stops. One in
                // flight keeps its lease, so a batch that completes still records its object.
                sqlx::query("UPDATE deliveries SET next_track_at = NULL, \
                    last_error = CASE WHEN status IN ('pending', 'in_flight') THEN 'permanent: the sink connection was deleted' ELSE last_error END, \
                    status = CASE WHEN status IN ('pending', 'in_flight') THEN 'dead' ELSE status END \
                    WHERE sink_connection_id = $1 AND (status IN ('pending', 'in_flight') OR next_track_at IS NOT NULL)")
                    .bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn set_connection_secrets(&self, id: &str, secrets_ct: &str, expected_version: i64) -> StoreResult<bool> {
                let n = sqlx::query("UPDATE connections SET secrets_ct = $2, version = version + 1, build_version = build_version + 1 WHERE id = $1 AND version = $3")
                    .bind(id).bind(secrets_ct).bind(expected_version).execute(&self.pool).await?.rows_affected();
                Ok(n == 1)
            }

            async fn swap_connection_secrets(&self, id: &str, secrets_ct: &str, expected_version: i64) -> StoreResult<Option<i64>> {
                sqlx::query_scalar("UPDATE connections SET secrets_ct = $2, version = version + 1 WHERE id = $1 AND version = $3 AND state <> 'deleted' RETURNING version")
                    .bind(id).bind(secrets_ct).bind(expected_version).fetch_optional(&self.pool).await
            }

            async fn lock_connection_refresh(&self, id: &str, owner: &str, now: i64, until: i64) -> StoreResult<bool> {
                let n = sqlx::query("UPDATE connections SET refresh_owner = $2, refresh_until = $4 WHERE id = $1 AND state <> 'deleted' \
                    AND (refresh_owner IS NULL OR refresh_owner = $2 OR refresh_until < $3)")
                    .bind(id).bind(owner).bind(now).bind(until).execute(&self.pool).await?.rows_affected();
                Ok(n == 1)
            }

            async fn unlock_connection_refresh(&self, id: &str, owner: &str) -> StoreResult<()> {
                sqlx::query("UPDATE connections SET refresh_owner = NULL, refresh_until = NULL WHERE id = $1 AND refresh_owner = $2")
                    .bind(id).bind(owner).execute(&self.pool).await.map(|_| ())
            }

            async fn schedule_pull(&self, id: &str, at: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE connections SET next_pull_at = CASE WHEN next_pull_at > $2 THEN $2 ELSE next_pull_at END WHERE id = $1 AND role = 'source'").bind(id).bind(at).execute(&self.pool).await?.rows_affected())
            }

            async fn insert_route(&self, r: &RouteRow) -> StoreResult<()> {
                // A route made again says what it forwards now.
                sqlx::query("INSERT INTO routes (id, merchant_id, source_connection_id, sink_connection_id, created_at, statuses, start_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                    ON CONFLICT (source_connection_id, sink_connection_id) DO UPDATE SET statuses = excluded.statuses, start_at = excluded.start_at")
                    .bind(&r.id).bind(&r.merchant_id).bind(&r.source_connection_id).bind(&r.sink_connection_id).bind(r.created_at).bind(&r.statuses).bind(r.start_at)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn routes_for_source(&self, source_id: &str) -> StoreResult<Vec<RouteTarget>> {
                sqlx::query_as("SELECT r.sink_connection_id, r.statuses, r.start_at FROM routes r JOIN connections c ON c.id = r.sink_connection_id WHERE r.source_connection_id = $1 AND c.state <> 'deleted' ORDER BY r.sink_connection_id")
                    .bind(source_id).fetch_all(&self.pool).await
            }

            async fn orders_for_backfill(&self, source_connection_id: &str, start_at: Option<i64>, after: Option<&str>, limit: i64) -> StoreResult<Vec<BackfillOrder>> {
                sqlx::query_as("SELECT id, merchant_id, version, status, source_created_at FROM orders WHERE connection_id = $1 AND source_created_at >= $2 AND id > $3 ORDER BY id LIMIT $4")
                    .bind(source_connection_id).bind(start_at.unwrap_or(i64::MIN)).bind(after.unwrap_or("")).bind(limit)
                    .fetch_all(&self.pool).await
            }

            async fn enqueue_new_deliveries(&self, d: &[DeliveryEnqueue], now: i64) -> StoreResult<u64> {
                let mut n = 0;
                for chunk in d.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO deliveries (id, order_id, merchant_id, sink_connection_id, version, idempotency_key, status, attempts, next_attempt_at, created_at, updated_at) ");
                    qb.push_values(chunk, |mut b, d| {
                        b.push_bind(d.id.clone()).push_bind(d.order_id.clone()).push_bind(d.merchant_id.clone()).push_bind(d.sink_connection_id.clone())
                            .push_bind(d.version).push_bind(d.idempotency_key.clone()).push_bind("pending").push_bind(0i64).push_bind(now).push_bind(now).push_bind(now);
                    });
                    qb.push(" ON CONFLICT (order_id, sink_connection_id) DO NOTHING");
                    n += qb.build().execute(&self.pool).await?.rows_affected();
                }
                Ok(n)
            }

            async fn delivery_pairs(&self, order_ids: &[String]) -> StoreResult<Vec<(String, String)>> {
                let mut out = Vec::new();
                for chunk in order_ids.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT order_id, sink_connection_id FROM deliveries WHERE order_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<(String, String)>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn claim_due_sources(&self, owner: &str, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<ConnectionRow>> {
                sqlx::query_as(concat!(
                    "UPDATE connections SET lease_owner = $1, lease_until = $2 WHERE id IN (",
                    "SELECT id FROM connections WHERE role = 'source' AND state = 'active' AND next_pull_at <= $3 ",
                    "AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_pull_at LIMIT $4", $skip_locked,
                    ") RETURNING ", conn_cols!()
                ))
                .bind(owner).bind(lease_until).bind(now).bind(limit).fetch_all(&self.pool).await
            }

            async fn renew_source_lease(&self, id: &str, owner: &str, lease_until: i64) -> StoreResult<bool> {
                let n = sqlx::query("UPDATE connections SET lease_until = $3 WHERE id = $1 AND lease_owner = $2").bind(id).bind(owner).bind(lease_until).execute(&self.pool).await?.rows_affected();
                Ok(n == 1)
            }

            async fn finish_pull(&self, id: &str, owner: &str, f: &PullFinish) -> StoreResult<()> {
                sqlx::query("UPDATE connections SET lease_owner = NULL, lease_until = NULL, next_pull_at = $3, last_pull_at = COALESCE($4, last_pull_at), last_error = $5, state = COALESCE($6, state), \
                    version = CASE WHEN COALESCE($6, state) = state THEN version ELSE version + 1 END WHERE id = $1 AND lease_owner = $2")
                    .bind(id).bind(owner).bind(f.next_pull_at).bind(f.last_pull_at).bind(&f.last_error).bind(&f.state)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn get_cursor(&self, connection_id: &str) -> StoreResult<Option<CursorRow>> {
                sqlx::query_as("SELECT watermark, window_until, page_token FROM cursors WHERE connection_id = $1").bind(connection_id).fetch_optional(&self.pool).await
            }

            async fn existing_orders(&self, connection_id: &str, external_ids: &[String]) -> StoreResult<Vec<ExistingOrder>> {
                if external_ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id, external_id, content_hash, version, pii_fields, pii_ct, pii_dek, pii_epoch, pii_purged_at FROM orders WHERE connection_id = ");
                qb.push_bind(connection_id.to_string()).push(" AND external_id IN (");
                let mut sep = qb.separated(", ");
                for id in external_ids {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(&self.pool).await
            }

            async fn commit_page(&self, p: &PageCommit) -> StoreResult<PageCommitted> {
                let mut tx = self.pool.begin().await?;
                if let Some(owner) = &p.lease_owner {
                    // Fenced: the row lock also orders this commit against a competing claim.
                    let held = sqlx::query("UPDATE connections SET lease_until = lease_until WHERE id = $1 AND lease_owner = $2")
                        .bind(&p.connection_id).bind(owner).execute(&mut *tx).await?.rows_affected();
                    if held == 0 {
                        return Ok(PageCommitted::LeaseLost);
                    }
                }
                for chunk in p.orders.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO orders (id, merchant_id, connection_id, marketplace, external_id, order_number, status, data, content_hash, version, pii_ct, pii_dek, pii_epoch, pii_fields, email_bidx, buyer_bidx, source_created_at, source_updated_at, ingested_at, updated_at, purge_after) ");
                    qb.push_values(chunk, |mut b, o| {
                        b.push_bind(o.id.clone()).push_bind(o.merchant_id.clone()).push_bind(o.connection_id.clone()).push_bind(o.marketplace.clone())
                            .push_bind(o.external_id.clone()).push_bind(o.order_number.clone()).push_bind(o.status.clone()).push_bind(o.data.clone())
                            .push_bind(o.content_hash.clone()).push_bind(o.version).push_bind(o.pii_ct.clone()).push_bind(o.pii_dek.clone())
                            .push_bind(o.pii_epoch.clone()).push_bind(o.pii_fields).push_bind(o.email_bidx.clone()).push_bind(o.buyer_bidx.clone()).push_bind(o.source_created_at)
                            .push_bind(o.source_updated_at).push_bind(o.now).push_bind(o.now).push_bind(o.purge_after);
                    });
                    // A purged order keeps its purge: a refetch must not bring PII back.
                    qb.push(" ON CONFLICT (connection_id, external_id) DO UPDATE SET order_number = excluded.order_number, status = excluded.status, data = excluded.data, content_hash = excluded.content_hash, version = excluded.version, \
                        pii_ct = CASE WHEN orders.pii_purged_at IS NULL THEN excluded.pii_ct ELSE NULL END, pii_dek = CASE WHEN orders.pii_purged_at IS NULL THEN excluded.pii_dek ELSE NULL END, \
                        pii_epoch = excluded.pii_epoch, pii_fields = CASE WHEN orders.pii_purged_at IS NULL THEN excluded.pii_fields ELSE 0 END, email_bidx = CASE WHEN orders.pii_purged_at IS NULL THEN excluded.email_bidx ELSE NULL END, \
                        buyer_bidx = CASE WHEN orders.pii_purged_at IS NULL THEN COALESCE(excluded.buyer_bidx, orders.buyer_bidx) ELSE NULL END, \
                        source_updated_at = excluded.source_updated_at, updated_at = excluded.updated_at, purge_after = CASE WHEN orders.delivered_at IS NULL THEN excluded.purge_after ELSE orders.purge_after END, \
                        pii_rewrap_at = CASE WHEN orders.delivered_at IS NOT NULL AND orders.pii_purged_at IS NULL AND excluded.pii_dek IS NOT NULL THEN excluded.updated_at END");
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in p.deliveries.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO deliveries (id, order_id, merchant_id, sink_connection_id, version, idempotency_key, status, attempts, next_attempt_at, created_at, updated_at) ");
                    qb.push_values(chunk, |mut b, d| {
                        b.push_bind(d.id.clone()).push_bind(d.order_id.clone()).push_bind(d.merchant_id.clone()).push_bind(d.sink_connection_id.clone())
                            .push_bind(d.version).push_bind(d.idempotency_key.clone()).push_bind("pending").push_bind(0i64).push_bind(p.now).push_bind(p.now).push_bind(p.now);
                    });
                    // An in-flight delivery stays claimed; its completion sees the newer version and re-arms itself.
                    qb.push(" ON CONFLICT (order_id, sink_connection_id) DO UPDATE SET version = excluded.version, idempotency_key = excluded.idempotency_key, \
                        status = CASE WHEN deliveries.status = 'in_flight' THEN 'in_flight' ELSE 'pending' END, attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at");
                    qb.build().execute(&mut *tx).await?;
                }
                if $dialect == "postgres" && !p.deliveries.is_empty() {
                    // Sent at commit: idle workers wake for the new deliveries.
                    sqlx::query("SELECT pg_notify($1, '')").bind($crate::store::WORK_CHANNEL).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO cursors (connection_id, watermark, window_until, page_token, updated_at) VALUES ($1, $2, $3, $4, $5) \
                    ON CONFLICT (connection_id) DO UPDATE SET watermark = excluded.watermark, window_until = excluded.window_until, page_token = excluded.page_token, updated_at = excluded.updated_at")
                    .bind(&p.connection_id).bind(p.cursor.watermark).bind(p.cursor.window_until).bind(&p.cursor.page_token).bind(p.now)
                    .execute(&mut *tx).await?;
                // Rejections are kept per order: an overlapping re-read updates, never recounts,
                // and an order that maps again (fixed at the source) stops counting.
                let mut recount = false;
                for chunk in p.rejected.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO rejected_orders (connection_id, external_id, reason, seen_at) ");
                    qb.push_values(chunk, |mut b, (id, why)| {
                        b.push_bind(p.connection_id.clone()).push_bind(id.clone()).push_bind(why.clone()).push_bind(p.now);
                    });
                    qb.push(" ON CONFLICT (connection_id, external_id) DO UPDATE SET reason = excluded.reason, seen_at = excluded.seen_at");
                    qb.build().execute(&mut *tx).await?;
                    recount = true;
                }
                if !p.orders.is_empty() {
                    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rejected_orders WHERE connection_id = $1)")
                        .bind(&p.connection_id).fetch_one(&mut *tx).await?;
                    if any {
                        for chunk in p.orders.chunks(500) {
                            let mut qb = sqlx::QueryBuilder::<$db>::new("DELETE FROM rejected_orders WHERE connection_id = ");
                            qb.push_bind(p.connection_id.clone()).push(" AND external_id IN (");
                            let mut sep = qb.separated(", ");
                            for o in chunk {
                                sep.push_bind(o.external_id.clone());
                            }
                            qb.push(")");
                            recount |= qb.build().execute(&mut *tx).await?.rows_affected() > 0;
                        }
                    }
                }
                if recount {
                    let by_reason: Vec<(String, i64)> = sqlx::query_as("SELECT reason, COUNT(*) FROM rejected_orders WHERE connection_id = $1 GROUP BY reason ORDER BY reason")
                        .bind(&p.connection_id).fetch_all(&mut *tx).await?;
                    let total: i64 = by_reason.iter().map(|r| r.1).sum();
                    let summary = match p.rejected.first() {
                        Some((example, _)) => Some($crate::store::rejection_summary(total, example, &by_reason)),
                        None if total == 0 => None,
                        None => p.rejected_reason.clone(),
                    };
                    sqlx::query("UPDATE connections SET rejected_orders = $2, last_error = COALESCE($3, last_error) WHERE id = $1")
                        .bind(&p.connection_id).bind(total).bind(&summary).execute(&mut *tx).await?;
                    tx.commit().await?;
                    return Ok(PageCommitted::Written(summary));
                }
                tx.commit().await?;
                Ok(PageCommitted::Written(None))
            }

            async fn claim_deliveries(&self, owner: &str, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<ClaimedDelivery>> {
                // Expired leases first, then what is due: one status per statement, so each is
                // an ordered seek of `deliveries_due` that stops at the limit (see
                // `claim_sink_deliveries`).
                let mut got: Vec<ClaimedDelivery> = Vec::new();
                for status in ["status = 'in_flight' AND lease_until < $3 ", "status = 'pending' AND next_attempt_at <= $3 "] {
                    let rest = limit.saturating_sub(got.len() as i64);
                    if rest <= 0 {
                        break;
                    }
                    let sql = format!(concat!(
                        "UPDATE deliveries SET status = 'in_flight', lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id IN (",
                        "SELECT id FROM deliveries WHERE {}",
                        // A paused (or deleted) sink's deliveries wait, queued, until it is active.
                        "AND EXISTS (SELECT 1 FROM connections c WHERE c.id = deliveries.sink_connection_id AND c.state = 'active') ",
                        "ORDER BY next_attempt_at LIMIT $4", $skip_locked,
                        ") RETURNING id, order_id, sink_connection_id, version, idempotency_key, external_ref, attempts"
                    ), status);
                    got.extend(sqlx::query_as::<_, ClaimedDelivery>(sqlx::AssertSqlSafe(sql))
                        .bind(owner).bind(lease_until).bind(now).bind(rest).fetch_all(&self.pool).await?);
                }
                Ok(got)
            }

            async fn due_delivery_sinks(&self, now: i64, limit: i64) -> StoreResult<Vec<String>> {
                // Active sinks only (a paused one's queue waits), each probed through
                // `deliveries_sink_due`: the cost follows the number of sinks, not of the
                // deliveries queued (a paused sink may hold a great many).
                let rows: Vec<(String,)> = sqlx::query_as(concat!(
                    "SELECT c.id FROM connections c WHERE c.role = 'sink' AND c.state = 'active' AND (",
                    "EXISTS (SELECT 1 FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'pending' AND d.next_attempt_at <= $1) ",
                    "OR EXISTS (SELECT 1 FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'in_flight' AND d.lease_until < $1)) LIMIT $2"
                ))
                .bind(now).bind(limit).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn claim_sink_deliveries(&self, owner: &str, sink_connection_id: &str, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<ClaimedDelivery>> {
                // Expired leases first, then what is due, one status per statement: each is then
                // an ordered seek of `deliveries_sink_due` that stops at the limit. As one OR of
                // the two, SQLite read every delivery the sink ever had (and sorted them) per
                // claim: quadratic in the deliveries a sink has seen.
                let mut got: Vec<ClaimedDelivery> = Vec::new();
                for status in ["status = 'in_flight' AND lease_until < $3 ", "status = 'pending' AND next_attempt_at <= $3 "] {
                    let rest = limit.saturating_sub(got.len() as i64);
                    if rest <= 0 {
                        break;
                    }
                    let sql = format!(concat!(
                        "UPDATE deliveries SET status = 'in_flight', lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id IN (",
                        // Nothing of a paused or deleted sink: its id is looked up (by primary
                        // key) only when active, so the index seek of a paused one finds nothing.
                        "SELECT id FROM deliveries WHERE sink_connection_id = (SELECT c.id FROM connections c WHERE c.id = $5 AND c.state = 'active') AND {}",
                        "ORDER BY next_attempt_at LIMIT $4", $skip_locked,
                        ") RETURNING id, order_id, sink_connection_id, version, idempotency_key, external_ref, attempts"
                    ), status);
                    got.extend(sqlx::query_as::<_, ClaimedDelivery>(sqlx::AssertSqlSafe(sql))
                        .bind(owner).bind(lease_until).bind(now).bind(rest).bind(sink_connection_id).fetch_all(&self.pool).await?);
                }
                Ok(got)
            }

            async fn renew_deliveries(&self, owner: &str, ids: &[String], lease_until: i64) -> StoreResult<u64> {
                let mut n = 0;
                for chunk in ids.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE deliveries SET lease_until = ");
                    qb.push_bind(lease_until).push(" WHERE status = 'in_flight' AND lease_owner = ").push_bind(owner.to_string()).push(" AND id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                    n += qb.build().execute(&self.pool).await?.rows_affected();
                }
                Ok(n)
            }

            async fn orders_by_ids(&self, ids: &[String]) -> StoreResult<Vec<OrderRow>> {
                if ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id, merchant_id, connection_id, marketplace, external_id, data, version, pii_ct, pii_dek, pii_epoch, source_created_at, pii_purged_at FROM orders WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in ids {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(&self.pool).await
            }

            async fn complete_deliveries(&self, owner: &str, now: i64, results: &[DeliveryResult]) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let mut written = 0;
                let done: Vec<_> = results.iter().filter_map(|r| match r { DeliveryResult::Done { id, external_ref, version, next_track_at } => Some((id, external_ref, *version, *next_track_at)), _ => None }).collect();
                for chunk in done.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (id, external_ref, dv, next_track_at) AS (");
                    qb.push_values(chunk, |mut b, (id, r, v, t)| {
                        b.push_bind((*id).clone()).push_bind((*r).clone()).push_bind(*v).push_bind(*t);
                    });
                    qb.push(") UPDATE deliveries SET status = CASE WHEN deliveries.version = v.dv THEN 'done' ELSE 'pending' END, external_ref = v.external_ref, delivered_version = v.dv, \
                        lease_owner = NULL, lease_until = NULL, last_error = NULL, attempts = 0, next_track_at = CASE WHEN v.external_ref = '' THEN NULL ELSE COALESCE(deliveries.next_track_at, v.next_track_at) END, updated_at = ");
                    qb.push_bind(now).push(" FROM v WHERE deliveries.id = v.id AND deliveries.lease_owner = ").push_bind(owner.to_string());
                    written += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                let failed: Vec<_> = results.iter().filter_map(|r| match r {
                    DeliveryResult::Retry { id, next_attempt_at, error } => Some((id, "pending", *next_attempt_at, error)),
                    DeliveryResult::Dead { id, error } => Some((id, "dead", now, error)),
                    _ => None,
                }).collect();
                for chunk in failed.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (id, status, next_attempt_at, last_error) AS (");
                    qb.push_values(chunk, |mut b, (id, s, t, e)| {
                        b.push_bind((*id).clone()).push_bind(s.to_string()).push_bind(*t).push_bind((*e).clone());
                    });
                    qb.push(") UPDATE deliveries SET status = v.status, next_attempt_at = v.next_attempt_at, last_error = v.last_error, lease_owner = NULL, lease_until = NULL, updated_at = ");
                    qb.push_bind(now).push(" FROM v WHERE deliveries.id = v.id AND deliveries.lease_owner = ").push_bind(owner.to_string());
                    written += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(written)
            }

            async fn replay_delivery(&self, merchant_id: &str, id: &str, now: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $3 WHERE id = $1 AND merchant_id = $2 AND status = 'dead' \
                    AND EXISTS (SELECT 1 FROM connections c WHERE c.id = deliveries.sink_connection_id AND c.state <> 'deleted')")
                    .bind(id).bind(merchant_id).bind(now).execute(&self.pool).await?.rows_affected())
            }

            async fn replay_dead_deliveries(&self, merchant_id: &str, sink_connection_id: Option<&str>, now: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $3 WHERE merchant_id = $1 AND status = 'dead' \
                    AND ($2 IS NULL OR sink_connection_id = $2) \
                    AND EXISTS (SELECT 1 FROM connections c WHERE c.id = deliveries.sink_connection_id AND c.state <> 'deleted')")
                    .bind(merchant_id).bind(sink_connection_id).bind(now).execute(&self.pool).await?.rows_affected())
            }

            async fn rearm_deliveries(&self, sink_connection_id: &str, now: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE deliveries SET next_attempt_at = $2 WHERE sink_connection_id = $1 AND status = 'pending' AND next_attempt_at > $2")
                    .bind(sink_connection_id).bind(now).execute(&self.pool).await?.rows_affected())
            }

            async fn claim_tracking(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<TrackingItem>> {
                sqlx::query_as(concat!(
                    "UPDATE deliveries SET next_track_at = $2 WHERE id IN (",
                    "SELECT id FROM deliveries WHERE next_track_at IS NOT NULL AND next_track_at <= $1 AND tracked_delivered_at IS NULL AND external_ref IS NOT NULL ",
                    // Sinks with a delivery feed are tracked a page at a time, not here.
                    "AND sink_connection_id NOT IN (SELECT connection_id FROM track_feeds) ",
                    "ORDER BY next_track_at LIMIT $3", $skip_locked,
                    ") RETURNING id, order_id, merchant_id, sink_connection_id, external_ref"
                ))
                .bind(now).bind(lease_until).bind(limit).fetch_all(&self.pool).await
            }

            async fn ensure_track_feed(&self, connection_id: &str, next_pass_at: i64, now: i64) -> StoreResult<()> {
                sqlx::query("INSERT INTO track_feeds (connection_id, since, next_pass_at, updated_at) VALUES ($1, NULL, $2, $3) ON CONFLICT (connection_id) DO NOTHING")
                    .bind(connection_id).bind(next_pass_at).bind(now).execute(&self.pool).await.map(|_| ())
            }

            async fn claim_track_feeds(&self, owner: &str, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<FeedRow>> {
                sqlx::query_as(concat!(
                    "UPDATE track_feeds SET lease_owner = $1, lease_until = $2 WHERE connection_id IN (",
                    "SELECT connection_id FROM track_feeds WHERE next_pass_at <= $3 AND (lease_until IS NULL OR lease_until < $3) ",
                    "ORDER BY next_pass_at LIMIT $4", $skip_locked,
                    ") RETURNING connection_id, since, page_token, read_started"
                ))
                .bind(owner).bind(lease_until).bind(now).bind(limit).fetch_all(&self.pool).await
            }

            async fn save_feed_page(&self, connection_id: &str, owner: &str, page_token: &str, read_started: i64, lease_until: i64) -> StoreResult<bool> {
                Ok(sqlx::query("UPDATE track_feeds SET page_token = $3, read_started = $4, lease_until = $5 WHERE connection_id = $1 AND lease_owner = $2")
                    .bind(connection_id).bind(owner).bind(page_token).bind(read_started).bind(lease_until)
                    .execute(&self.pool).await?.rows_affected() == 1)
            }

            async fn finish_track_feed(&self, connection_id: &str, owner: &str, since: Option<i64>, keep_progress: bool, next_pass_at: i64, last_error: Option<&str>, now: i64) -> StoreResult<()> {
                let keep = keep_progress && since.is_none();
                sqlx::query("UPDATE track_feeds SET since = COALESCE($3, since), page_token = CASE WHEN $7 THEN page_token END, \
                    read_started = CASE WHEN $7 THEN read_started END, next_pass_at = $4, last_error = $5, updated_at = $6, lease_owner = NULL, lease_until = NULL WHERE connection_id = $1 AND lease_owner = $2")
                    .bind(connection_id).bind(owner).bind(since).bind(next_pass_at).bind(last_error).bind(now).bind(keep)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn feed_due_now(&self, connection_id: &str, now: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE track_feeds SET next_pass_at = $2 WHERE connection_id = $1 AND next_pass_at > $2")
                    .bind(connection_id).bind(now).execute(&self.pool).await?.rows_affected())
            }

            async fn tracking_by_refs(&self, sink_connection_id: &str, refs: &[String]) -> StoreResult<Vec<TrackingItem>> {
                let mut out = Vec::new();
                for chunk in refs.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id, order_id, merchant_id, sink_connection_id, external_ref FROM deliveries WHERE sink_connection_id = ");
                    qb.push_bind(sink_connection_id.to_string())
                        .push(" AND next_track_at IS NOT NULL AND tracked_delivered_at IS NULL AND external_ref IN (");
                    let mut sep = qb.separated(", ");
                    for r in chunk {
                        sep.push_bind(r.clone());
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<TrackingItem>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn oldest_awaiting_tracking(&self, sink_connection_id: &str) -> StoreResult<Option<i64>> {
                sqlx::query_scalar("SELECT MIN(created_at) FROM deliveries WHERE sink_connection_id = $1 AND next_track_at IS NOT NULL AND tracked_delivered_at IS NULL")
                    .bind(sink_connection_id).fetch_one(&self.pool).await
            }

            async fn stop_tracking(&self, created_before: i64) -> StoreResult<u64> {
                // From the deliveries awaiting tracking (`deliveries_track`), each order looked
                // up by key: an `order_id IN (SELECT … FROM orders …)` read the whole orders
                // table, under the write lock, at every tracking pass.
                Ok(sqlx::query("UPDATE deliveries SET next_track_at = NULL WHERE next_track_at IS NOT NULL AND tracked_delivered_at IS NULL \
                    AND EXISTS (SELECT 1 FROM orders o WHERE o.id = deliveries.order_id AND (o.status = 'cancelled' OR o.source_created_at < $1))")
                    .bind(created_before).execute(&self.pool).await?.rows_affected())
            }

            async fn record_tracking(&self, now: i64, results: &[TrackingResult]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let delivered: Vec<_> = results.iter().filter_map(|r| match r { TrackingResult::Delivered { id, order_id, at, purge_after } => Some((id, order_id, *at, *purge_after)), _ => None }).collect();
                for chunk in delivered.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (id, at) AS (");
                    qb.push_values(chunk, |mut b, (id, _, at, _)| {
                        b.push_bind((*id).clone()).push_bind(*at);
                    });
                    qb.push(") UPDATE deliveries SET tracked_delivered_at = v.at, next_track_at = NULL FROM v WHERE deliveries.id = v.id");
                    qb.build().execute(&mut *tx).await?;
                    // The first trustworthy delivery time wins and starts the retention clock.
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (id, at, purge_after) AS (");
                    qb.push_values(chunk, |mut b, (_, order_id, at, pa)| {
                        b.push_bind((*order_id).clone()).push_bind(*at).push_bind(*pa);
                    });
                    // The DEK then belongs in the epoch of the new date (the purge sweep moves it).
                    qb.push(") UPDATE orders SET delivered_at = v.at, purge_after = v.purge_after, pii_rewrap_at = CASE WHEN orders.pii_dek IS NULL THEN NULL ELSE ");
                    qb.push_bind(now).push(" END FROM v WHERE orders.id = v.id AND (orders.delivered_at IS NULL OR orders.delivered_at > v.at)");
                    qb.build().execute(&mut *tx).await?;
                }
                let pending: Vec<_> = results.iter().filter_map(|r| match r { TrackingResult::Pending { id, next_track_at } => Some((id, *next_track_at)), _ => None }).collect();
                for chunk in pending.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (id, next_track_at) AS (");
                    qb.push_values(chunk, |mut b, (id, t)| {
                        b.push_bind((*id).clone()).push_bind(*t);
                    });
                    qb.push(") UPDATE deliveries SET next_track_at = v.next_track_at FROM v WHERE deliveries.id = v.id");
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await
            }

            async fn retention_policies(&self, merchant_id: &str) -> StoreResult<Vec<RetentionRow>> {
                sqlx::query_as("SELECT merchant_id, marketplace, days_after_delivery, days_after_order FROM retention_policies WHERE merchant_id = $1 ORDER BY marketplace")
                    .bind(merchant_id).fetch_all(&self.pool).await
            }

            async fn put_retention(&self, r: &RetentionRow, now: i64) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO retention_policies (merchant_id, marketplace, days_after_delivery, days_after_order, updated_at) VALUES ($1, $2, $3, $4, $5) \
                    ON CONFLICT (merchant_id, marketplace) DO UPDATE SET days_after_delivery = excluded.days_after_delivery, days_after_order = excluded.days_after_order, updated_at = excluded.updated_at")
                    .bind(&r.merchant_id).bind(&r.marketplace).bind(r.days_after_delivery).bind(r.days_after_order).bind(now)
                    .execute(&mut *tx).await?;
                // Days are bounded by the API's range (at most a few hundred), so µs stay far
                // from overflow.
                let day: i64 = 86_400_000_000;
                // Their DEKs then belong in the epochs of the new dates (the purge sweep moves them).
                let n = sqlx::query("UPDATE orders SET purge_after = CASE WHEN delivered_at IS NOT NULL THEN delivered_at + $3 ELSE source_created_at + $4 END, \
                    pii_rewrap_at = CASE WHEN pii_dek IS NULL THEN pii_rewrap_at ELSE $5 END \
                    WHERE merchant_id = $1 AND marketplace = $2 AND pii_purged_at IS NULL")
                    .bind(&r.merchant_id).bind(&r.marketplace)
                    .bind(r.days_after_delivery.saturating_mul(day)).bind(r.days_after_order.saturating_mul(day)).bind(now)
                    .execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                Ok(n)
            }

            async fn set_legal_hold(&self, merchant_id: &str, order_id: &str, hold: Option<&LegalHold>, now: i64) -> StoreResult<bool> {
                // Setting a hold again keeps when it was first set and takes the new terms.
                let q = match hold {
                    Some(h) => sqlx::query("UPDATE orders SET legal_hold_at = COALESCE(legal_hold_at, $3), legal_hold_until = $4, legal_hold_basis = $5 WHERE merchant_id = $1 AND id = $2")
                        .bind(merchant_id).bind(order_id).bind(now).bind(h.until).bind(h.basis.clone()),
                    None => sqlx::query("UPDATE orders SET legal_hold_at = NULL, legal_hold_until = NULL, legal_hold_basis = NULL WHERE merchant_id = $1 AND id = $2")
                        .bind(merchant_id).bind(order_id),
                };
                let n = q.execute(&self.pool).await?.rows_affected();
                Ok(n > 0)
            }

            async fn purge_due(&self, now: i64, limit: i64) -> StoreResult<Vec<String>> {
                let mut tx = self.pool.begin().await?;
                let rows: Vec<(String, String)> = sqlx::query_as(concat!(
                    "UPDATE orders SET pii_ct = NULL, pii_dek = NULL, email_bidx = NULL, buyer_bidx = NULL, pii_fields = 0, content_hash = '', pii_purged_at = $1, pii_rewrap_at = NULL WHERE id IN (",
                    "SELECT id FROM orders WHERE pii_purged_at IS NULL AND (legal_hold_until IS NULL OR legal_hold_until <= $1) AND purge_after <= $1 ",
                    "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id AND d.status IN ('pending', 'in_flight')) LIMIT $2", $skip_locked,
                    ") RETURNING id, merchant_id"
                ))
                .bind(now).bind(limit).fetch_all(&mut *tx).await?;
                let mut by_merchant: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
                for (id, m) in &rows {
                    by_merchant.entry(m.as_str()).or_default().push(id.as_str());
                }
                for (m, ids) in by_merchant {
                    let detail = serde_json::json!({ "orders": ids }).to_string();
                    sqlx::query("INSERT INTO audit_log (id, merchant_id, at, actor, action, subject, detail) VALUES ($1, $2, $3, 'system', 'pii.purged', $4, $5)")
                        .bind(uuid::Uuid::now_v7().to_string()).bind(m).bind(now).bind(format!("{} orders", ids.len())).bind(detail)
                        .execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(rows.into_iter().map(|(id, _)| id).collect())
            }

            async fn orders_named(&self, connection_id: &str, scope: &EraseScope) -> StoreResult<Vec<String>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id FROM orders WHERE pii_purged_at IS NULL AND connection_id = ");
                qb.push_bind(connection_id.to_string());
                $crate::store::sql::push_scope(&mut qb, scope);
                qb.push(" ORDER BY id");
                qb.build_query_scalar::<String>().fetch_all(&self.pool).await
            }

            async fn erase_pii(&self, connection_id: &str, scope: &EraseScope, now: i64, limit: i64) -> StoreResult<Vec<String>> {
                let mut tx = self.pool.begin().await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id FROM orders WHERE pii_purged_at IS NULL AND (legal_hold_until IS NULL OR legal_hold_until <= ");
                qb.push_bind(now).push(") AND connection_id = ").push_bind(connection_id.to_string());
                $crate::store::sql::push_scope(&mut qb, scope);
                qb.push(" ORDER BY id LIMIT ").push_bind(limit);
                let ids: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                if ids.is_empty() {
                    return Ok(ids);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE orders SET pii_ct = NULL, pii_dek = NULL, email_bidx = NULL, buyer_bidx = NULL, pii_fields = 0, content_hash = '', pii_purged_at = ");
                qb.push_bind(now).push(" WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in &ids {
                    sep.push_bind(id.clone());
                }
                qb.push(") RETURNING merchant_id");
                let merchants: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                if let Some(m) = merchants.first() {
                    let detail = serde_json::json!({ "connection": connection_id, "orders": ids }).to_string();
                    sqlx::query("INSERT INTO audit_log (id, merchant_id, at, actor, action, subject, detail) VALUES ($1, $2, $3, 'system', 'pii.erased', $4, $5)")
                        .bind(uuid::Uuid::now_v7().to_string()).bind(m).bind(now).bind(format!("{} orders", ids.len())).bind(detail)
                        .execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(ids)
            }

            async fn count_purge_due(&self, now: i64) -> StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE pii_purged_at IS NULL AND (legal_hold_until IS NULL OR legal_hold_until <= $1) AND purge_after <= $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id AND d.status IN ('pending', 'in_flight'))")
                    .bind(now).fetch_one(&self.pool).await
            }

            async fn rewrap_due(&self, limit: i64) -> StoreResult<Vec<RewrapItem>> {
                // Oldest mark first, through the partial index on the mark.
                sqlx::query_as("SELECT id, merchant_id, connection_id, marketplace, external_id, pii_ct, pii_dek, pii_epoch, purge_after FROM orders WHERE pii_rewrap_at IS NOT NULL ORDER BY pii_rewrap_at LIMIT $1")
                    .bind(limit).fetch_all(&self.pool).await
            }

            async fn apply_rewraps(&self, updates: &[RewrapUpdate]) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                let (live, gone): (Vec<&RewrapUpdate>, Vec<&RewrapUpdate>) = updates.iter().partition(|u| u.old_dek.is_some());
                for chunk in live.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (id, old_dek, purge_after, new_dek, new_epoch) AS (");
                    qb.push_values(chunk, |mut b, u| {
                        let (dek, epoch) = u.moved.clone().unzip();
                        b.push_bind(u.id.clone()).push_bind(u.old_dek.clone()).push_bind(u.purge_after).push_bind(dek).push_bind(epoch);
                    });
                    // One statement for the batch, each row guarded: a DEK or purge date changed
                    // since it was read (a refetch, a delivery, a purge) wins.
                    qb.push(") UPDATE orders SET pii_dek = COALESCE(v.new_dek, orders.pii_dek), pii_epoch = COALESCE(v.new_epoch, orders.pii_epoch), pii_rewrap_at = NULL \
                        FROM v WHERE orders.id = v.id AND orders.pii_dek = v.old_dek AND orders.purge_after IS NOT DISTINCT FROM v.purge_after");
                    n += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                for chunk in gone.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE orders SET pii_rewrap_at = NULL WHERE pii_dek IS NULL AND id IN (");
                    let mut sep = qb.separated(", ");
                    for u in chunk {
                        sep.push_bind(u.id.clone());
                    }
                    qb.push(")");
                    n += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }

            async fn epochs_in_use(&self, merchant_id: &str, epochs: &[String]) -> StoreResult<Vec<String>> {
                let mut out = Vec::new();
                for chunk in epochs.chunks(500) {
                    // One probe of the partial index (orders_epoch) per epoch, stopping at its first row.
                    let mut qb = sqlx::QueryBuilder::<$db>::new("WITH v (epoch) AS (");
                    qb.push_values(chunk, |mut b, e| {
                        b.push_bind(e.clone());
                    });
                    qb.push(") SELECT epoch FROM v WHERE EXISTS (SELECT 1 FROM orders o WHERE o.merchant_id = ").push_bind(merchant_id.to_string())
                        .push(" AND o.pii_epoch = v.epoch AND o.pii_dek IS NOT NULL)");
                    out.extend(qb.build_query_scalar::<String>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn list_orders(&self, q: &OrderQuery) -> StoreResult<Vec<OrderSummary>> {
                sqlx::query_as("SELECT id, connection_id, marketplace, external_id, order_number, status, version, source_updated_at, delivered_at, purge_after, pii_purged_at, legal_hold_at, legal_hold_until, legal_hold_basis, data FROM orders \
                    WHERE merchant_id = $1 AND ($2 IS NULL OR connection_id = $2) AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5")
                    .bind(&q.merchant_id).bind(&q.connection_id).bind(&q.status).bind(&q.after).bind(q.limit)
                    .fetch_all(&self.pool).await
            }

            async fn get_order(&self, merchant_id: &str, id: &str) -> StoreResult<Option<OrderSummary>> {
                sqlx::query_as("SELECT id, connection_id, marketplace, external_id, order_number, status, version, source_updated_at, delivered_at, purge_after, pii_purged_at, legal_hold_at, legal_hold_until, legal_hold_basis, data FROM orders WHERE merchant_id = $1 AND id = $2")
                    .bind(merchant_id).bind(id).fetch_optional(&self.pool).await
            }

            async fn deliveries_of_order(&self, merchant_id: &str, order_id: &str) -> StoreResult<Vec<DeliveryRow>> {
                sqlx::query_as("SELECT id, order_id, sink_connection_id, version, status, attempts, external_ref, last_error, tracked_delivered_at, updated_at FROM deliveries WHERE merchant_id = $1 AND order_id = $2 ORDER BY id")
                    .bind(merchant_id).bind(order_id).fetch_all(&self.pool).await
            }

            async fn list_deliveries(&self, merchant_id: &str, status: Option<&str>, limit: i64) -> StoreResult<Vec<DeliveryRow>> {
                sqlx::query_as("SELECT id, order_id, sink_connection_id, version, status, attempts, external_ref, last_error, tracked_delivered_at, updated_at FROM deliveries WHERE merchant_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id LIMIT $3")
                    .bind(merchant_id).bind(status).bind(limit).fetch_all(&self.pool).await
            }

            async fn connection_status(&self, merchant_id: Option<&str>) -> StoreResult<Vec<ConnectionStatus>> {
                sqlx::query_as("SELECT c.id, c.kind, c.role, c.name, c.state, c.last_pull_at, c.last_error, c.rejected_orders, cu.watermark, \
                    (SELECT COUNT(*) FROM orders o WHERE o.connection_id = c.id) AS orders, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status IN ('pending', 'in_flight')) AS deliveries_pending, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'dead') AS deliveries_dead, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'done') AS deliveries_done \
                    FROM connections c LEFT JOIN cursors cu ON cu.connection_id = c.id WHERE ($1 IS NULL OR c.merchant_id = $1) AND c.state <> 'deleted' ORDER BY c.id")
                    .bind(merchant_id).fetch_all(&self.pool).await
            }

            async fn totals(&self) -> StoreResult<Totals> {
                let (orders, pii_purged, delivered_orders): (i64, i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN pii_purged_at IS NULL THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END), 0) FROM orders",
                ).fetch_one(&self.pool).await?;
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetch_all(&self.pool).await?;
                let (awaiting_tracking,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = 'done' AND next_track_at IS NOT NULL AND tracked_delivered_at IS NULL").fetch_one(&self.pool).await?;
                let mut t = Totals { orders, pii_purged, delivered_orders, awaiting_tracking, ..Default::default() };
                for (s, n) in rows {
                    match s.as_str() {
                        "pending" => t.deliveries_pending = n,
                        "in_flight" => t.deliveries_in_flight = n,
                        "done" => t.deliveries_done = n,
                        "dead" => t.deliveries_dead = n,
                        _ => {}
                    }
                }
                Ok(t)
            }

            async fn metrics_snapshot(&self, max_connections: i64) -> StoreResult<MetricsSnapshot> {
                // Each count reads an index, never order or delivery rows: the orders' smallest,
                // `orders_pii_purged` (0010) and `deliveries_due` by status, so the queue depths
                // read only their own statuses.
                let (orders, orders_pii_purged, deliveries_pending, deliveries_in_flight, deliveries_dead, deliveries_done): (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM orders WHERE pii_purged_at IS NOT NULL), \
                     (SELECT COUNT(*) FROM deliveries WHERE status = 'pending'), (SELECT COUNT(*) FROM deliveries WHERE status = 'in_flight'), \
                     (SELECT COUNT(*) FROM deliveries WHERE status = 'dead'), (SELECT COUNT(*) FROM deliveries WHERE status = 'done')",
                ).fetch_one(&self.pool).await?;
                let connections_by_state = sqlx::query_as("SELECT state, COUNT(*) FROM connections WHERE state <> 'deleted' GROUP BY state ORDER BY state")
                    .fetch_all(&self.pool).await?;
                // Per sink, `deliveries_sink_due` (sink, status, …) answers each depth.
                let connections = sqlx::query_as("SELECT c.id, c.kind, c.role, c.state, c.last_pull_at, c.last_error, c.rejected_orders, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'pending') AS deliveries_pending, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'in_flight') AS deliveries_in_flight, \
                    (SELECT COUNT(*) FROM deliveries d WHERE d.sink_connection_id = c.id AND d.status = 'dead') AS deliveries_dead \
                    FROM connections c WHERE c.state <> 'deleted' ORDER BY c.id LIMIT $1")
                    .bind(max_connections).fetch_all(&self.pool).await?;
                Ok(MetricsSnapshot { orders, orders_pii_purged, deliveries_pending, deliveries_in_flight, deliveries_dead, deliveries_done, connections_by_state, connections })
            }

            async fn skipped_orders(&self, sink_connection_id: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar("SELECT o.external_id FROM deliveries d JOIN orders o ON o.id = d.order_id WHERE d.sink_connection_id = $1 AND d.status = 'done' AND d.external_ref = ''")
                    .bind(sink_connection_id).fetch_all(&self.pool).await
            }

            async fn audit(&self, merchant_id: Option<&str>, actor: &str, action: &str, subject: Option<&str>, detail: Option<&str>, now: i64) -> StoreResult<()> {
                sqlx::query("INSERT INTO audit_log (id, merchant_id, at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(uuid::Uuid::now_v7().to_string()).bind(merchant_id).bind(now).bind(actor).bind(action).bind(subject).bind(detail)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn list_audit(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<AuditRow>> {
                sqlx::query_as("SELECT id, at, actor, action, subject, detail FROM audit_log WHERE merchant_id = $1 ORDER BY at DESC, id DESC LIMIT $2")
                    .bind(merchant_id).bind(limit).fetch_all(&self.pool).await
            }

            async fn record_webhook(&self, dedupe_key: &str, connection_id: &str, topic: &str, now: i64) -> StoreResult<bool> {
                let n = sqlx::query("INSERT INTO webhook_events (dedupe_key, connection_id, topic, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING")
                    .bind(dedupe_key).bind(connection_id).bind(topic).bind(now).execute(&self.pool).await?.rows_affected();
                Ok(n == 1)
            }

            async fn expire_webhooks(&self, before: i64) -> StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM webhook_events WHERE received_at < $1").bind(before).execute(&self.pool).await?.rows_affected())
            }

            async fn connections_of_kind(&self, kind: &str) -> StoreResult<Vec<ConnectionRow>> {
                sqlx::query_as(concat!("SELECT ", conn_cols!(), " FROM connections WHERE kind = $1 AND state <> 'deleted' ORDER BY id")).bind(kind).fetch_all(&self.pool).await
            }

            async fn orders_of_subject(&self, merchant_id: &str, email_bidx: &str) -> StoreResult<Vec<SubjectOrder>> {
                // (merchant_id, email_bidx) is indexed (orders_bidx): no scan of the merchant's orders.
                // No ORDER BY: SQLite would walk orders_merchant (merchant_id, id) to avoid a sort.
                let mut v: Vec<SubjectOrder> = sqlx::query_as("SELECT id, connection_id, marketplace, external_id, order_number, pii_ct, pii_dek, pii_epoch, legal_hold_until FROM orders \
                    WHERE merchant_id = $1 AND email_bidx = $2 AND pii_purged_at IS NULL")
                    .bind(merchant_id).bind(email_bidx).fetch_all(&self.pool).await?;
                v.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(v)
            }

            async fn insert_dsr(&self, r: &DsrRow, subject_bidx: &str) -> StoreResult<()> {
                sqlx::query("INSERT INTO dsr_requests (id, merchant_id, kind, subject_bidx, status, result_ct, created_at, completed_at, due_at, actor, orders, erased, held) \
                    VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(&r.id).bind(&r.merchant_id).bind(&r.kind).bind(subject_bidx).bind(&r.status).bind(r.created_at).bind(r.completed_at)
                    .bind(r.due_at).bind(&r.actor).bind(r.orders).bind(r.erased).bind(r.held)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn update_dsr(&self, r: &DsrRow) -> StoreResult<()> {
                sqlx::query("UPDATE dsr_requests SET status = $3, completed_at = $4, orders = $5, erased = $6, held = $7 WHERE id = $1 AND merchant_id = $2")
                    .bind(&r.id).bind(&r.merchant_id).bind(&r.status).bind(r.completed_at).bind(r.orders).bind(r.erased).bind(r.held)
                    .execute(&self.pool).await.map(|_| ())
            }

            async fn get_dsr(&self, merchant_id: &str, id: &str) -> StoreResult<Option<DsrRow>> {
                sqlx::query_as("SELECT id, merchant_id, kind, status, actor, created_at, due_at, completed_at, orders, erased, held FROM dsr_requests WHERE merchant_id = $1 AND id = $2")
                    .bind(merchant_id).bind(id).fetch_optional(&self.pool).await
            }

            async fn list_dsr(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<DsrRow>> {
                sqlx::query_as("SELECT id, merchant_id, kind, status, actor, created_at, due_at, completed_at, orders, erased, held FROM dsr_requests WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
                    .bind(merchant_id).bind(limit).fetch_all(&self.pool).await
            }

            async fn take_rate_budget(&self, key: &str, now: i64, rate_per_sec: f64, burst: f64, want: u32) -> StoreResult<ordersync_sdk::budget::Spent> {
                let mut tx = self.pool.begin().await?;
                // A write first: on SQLite it takes the write lock before anything is read, so
                // the read below cannot be stale; on PostgreSQL the row lock follows.
                sqlx::query("INSERT INTO rate_budgets (key, tokens, refilled_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING")
                    .bind(key).bind(burst.max(1.0)).bind(now).execute(&mut *tx).await?;
                let lock = if $dialect == "postgres" {
                    "SELECT tokens, refilled_at FROM rate_budgets WHERE key = $1 FOR UPDATE"
                } else {
                    "SELECT tokens, refilled_at FROM rate_budgets WHERE key = $1"
                };
                let (tokens, at): (f64, i64) = sqlx::query_as(lock).bind(key).fetch_one(&mut *tx).await?;
                let elapsed = (now - at) as f64 / 1_000_000.0;
                let spent = ordersync_sdk::budget::spend(tokens, elapsed, rate_per_sec, burst, want);
                sqlx::query("UPDATE rate_budgets SET tokens = $2, refilled_at = $3 WHERE key = $1")
                    .bind(key).bind(spent.tokens).bind(at.max(now)).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(spent)
            }

            async fn rate_budget(&self, key: &str) -> StoreResult<Option<(f64, i64)>> {
                sqlx::query_as("SELECT tokens, refilled_at FROM rate_budgets WHERE key = $1")
                    .bind(key).fetch_optional(&self.pool).await
            }
        }
    };
}
pub(crate) use impl_store;
