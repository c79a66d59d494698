//! Master key rotation (`ordersync keys rotate`, docs/keys.md): tenant keys re-wrapped under
//! the current master key version online, then the other versions retired.

use super::*;

/// What `keys rotate` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The version every live tenant key is now wrapped by.
    pub current: String,
    pub rewrapped: u64,
    /// Rows that changed between read and swap (destroyed meanwhile, or re-wrapped by a
    /// concurrent rotation).
    pub skipped: u64,
    pub retired: Vec<String>,
}

/// One master key version as `keys status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersionStatus {
    pub version: String,
    pub retired: bool,
    /// Whether this process holds it (and as its current key).
    pub held: bool,
    pub current: bool,
    /// Live tenant keys wrapped by it.
    pub tenant_keys: i64,
}

impl Crypto {
    /// Re-wraps every live tenant key not wrapped by the current master key under it (online:
    /// `batch` rows at a time, each by compare-and-swap on the wrapped value it read, so a
    /// concurrent destroy wins; tenant keys themselves do not change, so caches stay valid),
    /// then retires every other version: its check row is destroyed, so processes holding
    /// only that version refuse to start, and the keystore refuses new rows under it. A
    /// version is retired only once no live row uses it; rows added meanwhile by a process
    /// still on it are re-wrapped in another round.
    pub async fn rotate(
        &self,
        batch: usize,
        now: OffsetDateTime,
    ) -> Result<RotationReport, CryptoError> {
        const ROUNDS: usize = 5;
        let current = self.keys.current().clone();
        let cv = current.version().to_string();
        let mut report = RotationReport {
            current: cv.clone(),
            ..Default::default()
        };
        let mut left = Vec::new();
        for _ in 0..ROUNDS {
            let mut after = String::new();
            loop {
                let rows = self
                    .keystore
                    .tenant_rows_not_at(&cv, &after, batch.max(1) as i64)
                    .await?;
                let Some(last) = rows.last() else { break };
                after = last.key_id.clone();
                for r in &rows {
                    let aad = tenant_aad(&r.merchant_id, &r.key_id);
                    let blob = decode_b64(&r.wrapped)
                        .map_err(|e| self.failed(&r.merchant_id, KeyKind::Master, e))?;
                    let key =
                        self.unwrap_master(&r.merchant_id, r.kek_version.as_deref(), &blob, &aad)?;
                    let wrapped = STANDARD.encode(current.wrap(&key, aad.as_bytes()));
                    if self
                        .keystore
                        .rewrap(&r.key_id, &r.wrapped, &wrapped, &cv)
                        .await?
                    {
                        report.rewrapped += 1;
                    } else {
                        report.skipped += 1;
                    }
                }
                tracing::info!(
                    rewrapped = report.rewrapped,
                    skipped = report.skipped,
                    "Re-wrapping tenant keys under the current master key."
                );
            }
            left.clear();
            for row in self.keystore.check_rows().await? {
                let Some(v) = row.kek_version.filter(|v| *v != cv) else {
                    continue;
                };
                if row.destroyed_at.is_some() {
                    continue;
                }
                if self.keystore.retire_version(&v, micros(now)).await? {
                    tracing::info!(version = %v, "Master key version retired.");
                    report.retired.push(v);
                } else {
                    left.push(v);
                }
            }
            if left.is_empty() {
                return Ok(report);
            }
        }
        Err(CryptoError::RotationIncomplete(format!(
            "new tenant keys under {} keep appearing: a process still runs with only that master key; restart it with the new configuration and run `keys rotate` again",
            left.join(", ")
        )))
    }

    /// Every master key version of the keystore, with the live tenant keys each wraps.
    pub async fn key_versions(&self) -> Result<Vec<KeyVersionStatus>, CryptoError> {
        let mut counts: HashMap<Option<String>, i64> = self
            .keystore
            .tenant_counts_by_version()
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::new();
        for row in self.keystore.check_rows().await? {
            let Some(v) = row.kek_version else { continue };
            out.push(KeyVersionStatus {
                held: self.keys.get(&v).is_some(),
                current: v == self.keys.current().version(),
                retired: row.destroyed_at.is_some(),
                tenant_keys: counts.remove(&Some(v.clone())).unwrap_or(0),
                version: v,
            });
        }
        // Versions without a check row (should not exist) and unrecorded ones, so every
        // row is counted somewhere.
        for (v, n) in counts {
            out.push(KeyVersionStatus {
                held: v.as_deref().is_some_and(|v| self.keys.get(v).is_some()),
                current: false,
                retired: false,
                tenant_keys: n,
                version: v.unwrap_or_else(|| "(unrecorded)".to_string()),
            });
        }
        Ok(out)
    }
}
