//! Which keystore an orders database belongs to (docs/keys.md §7). The keystore has a random
//! id (`Keystore::init_id`); the orders database records it at its first start (`instance`,
//! migration 0011) and every later start compares: a process pointed at another keystore, or
//! at an empty one (a mistyped URL), refuses to start instead of sealing PII that the other
//! processes cannot open. Also the start-up checks of the keystore URL itself.

use crate::config::Config;
use crate::crypto::keystore::Keystore;
use crate::crypto::{Crypto, PiiRow, SealedPii};
use crate::store::{SealedSample, Store};
use anyhow::bail;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use time::OffsetDateTime;

/// The keystore URL to open. Refuses a PostgreSQL orders database without an explicit one
/// (the default `keystore.db` is local to each host, and PII sealed on one host would not
/// open on another), and a keystore URL naming the orders database (it must be backed up
/// separately: docs/privacy.md §4).
pub fn keystore_url(cfg: &Config) -> anyhow::Result<String> {
    let url = match cfg.keystore_url.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => u,
        _ if is_postgres(&cfg.database_url) => bail!(
            "ORDERSYNC_KEYSTORE_URL is not set: with a PostgreSQL database the keystore must be configured explicitly, as a PostgreSQL database other than the orders one (a keystore.db on each host would seal PII that the other hosts cannot open)"
        ),
        _ => {
            let default = Config {
                keystore_url: None,
                ..cfg.clone()
            };
            return Ok(default.keystore_url());
        }
    };
    if same_database(&cfg.database_url, url) {
        bail!(
            "ORDERSYNC_KEYSTORE_URL ({}) names the orders database: the keystore must be a database of its own, backed up separately from the orders database",
            redact(url)
        );
    }
    Ok(url.to_string())
}

/// Before the first key is written to a keystore that holds nothing yet: refuses when the
/// orders database belongs to a keystore already (it records one, or holds sealed data), so
/// a wrong URL leaves the new keystore empty and its id recorded nowhere.
pub async fn refuse_empty_keystore(
    store: &dyn Store,
    keystore: &Keystore,
    url: &str,
) -> anyhow::Result<()> {
    refuse_orders_database(keystore, url).await?;
    let recorded = store.recorded_keystore_id().await?;
    let bound = recorded.is_some() || store.sealed_sample().await?.is_some();
    // Read after the orders database: another process starting with this keystore may have
    // initialised and recorded it since it was found empty (it writes the keystore first), and
    // `bind` then decides.
    if !bound || !keystore.is_empty().await? {
        return Ok(());
    }
    match recorded {
        Some(recorded) => bail!(
            "this database's PII is sealed by keystore {}, but ORDERSYNC_KEYSTORE_URL ({}) points at an empty keystore: point it at keystore {} (nothing was written to the empty one)",
            short(&recorded),
            redact(url),
            short(&recorded)
        ),
        None => bail!(
            "this database holds sealed PII or connection secrets, but ORDERSYNC_KEYSTORE_URL ({}) points at an empty keystore, which cannot open them: point it at the keystore they were sealed with (nothing was written to the empty one)",
            redact(url)
        ),
    }
}

/// Binds the orders database to the keystore of `crypto`, or refuses to start: returns the
/// keystore id. Nothing recorded yet (a new database, or one from before identities were
/// recorded): the keystore's id is recorded, provided the keystore opens the database's sealed
/// data (one sealed row is checked). Recorded: it must be this keystore's id.
pub async fn bind(
    store: &dyn Store,
    crypto: &Crypto,
    url: &str,
    now: OffsetDateTime,
) -> anyhow::Result<String> {
    let keystore = crypto.keystore();
    refuse_orders_database(keystore, url).await?;
    // The orders database first: a process that records an id has given the keystore it
    // first, so the keystore read after it is at least as new.
    match (store.recorded_keystore_id().await?, keystore.id().await?) {
        (Some(recorded), Some(own)) if recorded == own => return Ok(own),
        (Some(recorded), Some(own)) => bail!(mismatch(&recorded, &own, url)),
        (Some(recorded), None) => bail!(
            "this database's PII is sealed by keystore {}, but ORDERSYNC_KEYSTORE_URL ({}) points at a keystore without an identity (another keystore, or a copy from before identities were recorded): point it at keystore {}",
            short(&recorded),
            redact(url),
            short(&recorded)
        ),
        (None, _) => {}
    }
    if !sealed_data_opens(store, crypto, now).await? {
        bail!(
            "this database holds sealed PII or connection secrets that the keystore at ORDERSYNC_KEYSTORE_URL ({}) cannot open (it does not hold their keys): point it at the keystore they were sealed with",
            redact(url)
        );
    }
    let own = keystore.init_id().await?;
    let recorded = store
        .record_keystore_id(&own, ordersync_sdk::clock::to_micros(now))
        .await?;
    if recorded != own {
        // Another process bound the database to another keystore meanwhile.
        bail!(mismatch(&recorded, &own, url));
    }
    tracing::info!(keystore = %short(&own), "The database is bound to this keystore from now on.");
    Ok(own)
}

fn mismatch(recorded: &str, own: &str, url: &str) -> String {
    format!(
        "this database's PII is sealed by keystore {}, but ORDERSYNC_KEYSTORE_URL ({}) points at keystore {}: point it at the keystore this database was first started with",
        short(recorded),
        redact(url),
        short(own)
    )
}

async fn refuse_orders_database(keystore: &Keystore, url: &str) -> anyhow::Result<()> {
    if keystore.is_orders_database().await? {
        bail!(
            "ORDERSYNC_KEYSTORE_URL ({}) reaches the orders database (under another name): the keystore must be a database of its own, backed up separately from the orders database",
            redact(url)
        );
    }
    Ok(())
}

/// Whether the keystore opens one sealed row of the database (`true` when there is none).
async fn sealed_data_opens(
    store: &dyn Store,
    crypto: &Crypto,
    now: OffsetDateTime,
) -> anyhow::Result<bool> {
    // A sampled row may be purged or deleted before it is read: sample again.
    for _ in 0..3 {
        let opens = match store.sealed_sample().await? {
            None => return Ok(true),
            Some(SealedSample::Order(id)) => {
                let rows = store.orders_by_ids(std::slice::from_ref(&id)).await?;
                match rows.first() {
                    Some(o) => match (&o.pii_ct, &o.pii_dek, &o.pii_epoch) {
                        (Some(ct), Some(dek), Some(epoch)) => {
                            let row = PiiRow {
                                merchant_id: &o.merchant_id,
                                marketplace: &o.marketplace,
                                external_id: &o.external_id,
                                connection_id: &o.connection_id,
                                order_id: &o.id,
                            };
                            let sealed = SealedPii {
                                pii_ct: ct.clone(),
                                dek: dek.clone(),
                            };
                            Some(crypto.holds_pii_key(row, epoch, &sealed, now).await?)
                        }
                        _ => None,
                    },
                    None => None,
                }
            }
            Some(SealedSample::Connection(id)) => match store.get_connection(&id).await? {
                Some(c) => match c.secrets_ct.as_deref().filter(|s| !s.is_empty()) {
                    Some(s) => Some(crypto.holds_secrets_key(&c.merchant_id, s, now).await?),
                    None => None,
                },
                None => None,
            },
        };
        if let Some(opens) = opens {
            return Ok(opens);
        }
    }
    bail!("the database's sealed rows kept changing while they were checked; start again")
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

/// The first 8 characters of a keystore id: enough to tell keystores apart in a message.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Whether two URLs name the same database: PostgreSQL by host (loopback names and a local
/// socket as one), port and database name; SQLite by the file's absolute path.
fn same_database(a: &str, b: &str) -> bool {
    matches!((database_identity(a), database_identity(b)), (Some(x), Some(y)) if x == y)
}

fn database_identity(url: &str) -> Option<String> {
    if is_postgres(url) {
        let o = PgConnectOptions::from_str(url).ok()?;
        let host = o.get_host().trim_matches(['[', ']']).to_ascii_lowercase();
        let local =
            o.get_socket().is_some() || matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1");
        let host = if local { "localhost".to_string() } else { host };
        let db = o
            .get_database()
            .filter(|d| !d.is_empty())
            .unwrap_or(o.get_username());
        return Some(format!("postgres|{host}|{}|{db}", o.get_port()));
    }
    let o = SqliteConnectOptions::from_str(url).ok()?;
    Some(format!("sqlite|{}", resolved(o.get_filename()).display()))
}

/// An absolute path with the symlinks of its existing part resolved (the file itself may not
/// exist yet).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent().map(std::fs::canonicalize), abs.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        // Nothing of it exists yet: `a/../b` is still `b`.
        _ => abs.components().fold(PathBuf::new(), |mut p, c| {
            match c {
                std::path::Component::ParentDir => {
                    p.pop();
                }
                std::path::Component::CurDir => {}
                c => p.push(c),
            }
            p
        }),
    }
}

/// A URL fit for a message: its password (in the user info or a `password` parameter)
/// replaced.
pub fn redact(url: &str) -> String {
    const HIDDEN: &str = "REDACTED";
    let Ok(mut u) = url::Url::parse(url) else {
        // Not parseable as a URL: keep nothing that could be user info.
        return match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}://{HIDDEN}{}", &url[..s], &url[at..]),
            _ => url.to_string(),
        };
    };
    if u.password().is_some() {
        let _ = u.set_password(Some(HIDDEN));
    }
    let has_secret_param = u
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"));
    if has_secret_param {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    HIDDEN.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        let r = redact("postgres://app:s3cret@db.internal:5433/keys?sslmode=require");
        assert_eq!(
            r,
            "postgres://app:REDACTED@db.internal:5433/keys?sslmode=require"
        );
        let r = redact("postgres://app@db/keys?password=s3cret&sslmode=require");
        assert!(
            !r.contains("s3cret") && r.contains("sslmode=require"),
            "{r}"
        );
        assert!(!redact("postgres://app:s3cret@[bad").contains("s3cret"));
        assert_eq!(
            redact("sqlite://./data/keystore.db"),
            "sqlite://./data/keystore.db"
        );
    }

    #[test]
    fn the_same_database_under_other_spellings_is_recognised() {
        let same = [
            (
                "postgres://u@127.0.0.1:5432/orders",
                "postgresql://u:pw@localhost/orders",
            ),
            (
                "postgres://u@DB.example/orders",
                "postgres://v@db.example:5432/orders",
            ),
            ("postgres://orders@db/", "postgres://orders@db/orders"),
            (
                "sqlite://./data/x.db",
                "sqlite://data/../data/x.db?mode=rwc",
            ),
        ];
        for (a, b) in same {
            assert!(same_database(a, b), "{a} = {b}");
        }
        let different = [
            ("postgres://u@db/orders", "postgres://u@db/keys"),
            ("postgres://u@db/orders", "postgres://u@db:5433/orders"),
            ("postgres://u@db1/orders", "postgres://u@db2/orders"),
            ("postgres://u@db/orders", "sqlite://./orders"),
            (
                "sqlite://./data/ordersync.db",
                "sqlite://./data/keystore.db",
            ),
        ];
        for (a, b) in different {
            assert!(!same_database(a, b), "{a} ≠ {b}");
        }
    }

    #[test]
    fn postgres_needs_an_explicit_separate_keystore() {
        let pg = |ks: Option<&str>| Config {
            database_url: "postgres://app:pw@db/orders".into(),
            keystore_url: ks.map(str::to_string),
            ..Config::default()
        };
        let e = keystore_url(&pg(None)).unwrap_err().to_string();
        assert!(e.contains("ORDERSYNC_KEYSTORE_URL"), "{e}");
        let e = keystore_url(&pg(Some(""))).unwrap_err().to_string();
        assert!(e.contains("ORDERSYNC_KEYSTORE_URL"), "{e}");
        let e = keystore_url(&pg(Some("postgres://app:pw@db:5432/orders")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("orders database") && !e.contains(":pw@"), "{e}");
        assert_eq!(
            keystore_url(&pg(Some("postgres://app:pw@db/keys"))).unwrap(),
            "postgres://app:pw@db/keys"
        );
        // SQLite keeps its default beside the database.
        let c = Config {
            database_url: "sqlite:///srv/o/ordersync.db".into(),
            ..Config::default()
        };
        assert_eq!(keystore_url(&c).unwrap(), "sqlite:///srv/o/keystore.db");
        let c = Config {
            keystore_url: Some("sqlite://./data/ordersync.db".into()),
            ..Config::default()
        };
        assert!(keystore_url(&c).is_err());
    }
}
