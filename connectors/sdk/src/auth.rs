//! Access tokens. Platforms with expiring tokens (Shopify expiring offline tokens, Amazon LWA,
//! eBay, Xero, Sage) rotate the refresh token on every use, so a refresh must be
//! single-flight per connection and the new refresh token persisted *before* the new access
//! token is used: otherwise a crash loses the only valid refresh token.

use crate::clock::Clock;
use crate::error::ConnectorError;
use async_trait::async_trait;
use secrecy::SecretString;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

#[async_trait]
pub trait TokenProvider: Send + Sync + 'static {
    /// A token valid for at least a minute.
    async fn access_token(&self) -> Result<SecretString, ConnectorError>;
    /// The platform rejected the current token: the next call refreshes.
    async fn invalidate(&self);
}

/// A non-expiring token (custom apps, API keys).
pub struct StaticToken(pub SecretString);

#[async_trait]
impl TokenProvider for StaticToken {
    async fn access_token(&self) -> Result<SecretString, ConnectorError> {
        Ok(self.0.clone())
    }
    async fn invalidate(&self) {}
}

/// What a token endpoint returned.
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub expires_at: OffsetDateTime,
    /// The rotated refresh token, if the platform issued a new one.
    pub refresh_token: Option<SecretString>,
}

/// Exchanges a refresh token at the platform's token endpoint.
#[async_trait]
pub trait RefreshFn: Send + Sync + 'static {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError>;
}

/// Stores rotated secrets of a connection (encrypted, in the service's database).
#[async_trait]
pub trait SecretsPersister: Send + Sync + 'static {
    async fn persist(&self, name: &str, value: &SecretString) -> Result<(), ConnectorError>;
}

/// A persister for tests and tools that keep nothing.
pub struct DiscardSecrets;

#[async_trait]
impl SecretsPersister for DiscardSecrets {
    async fn persist(&self, _name: &str, _value: &SecretString) -> Result<(), ConnectorError> {
        Ok(())
    }
}

struct State {
    refresh_token: SecretString,
    current: Option<(SecretString, OffsetDateTime)>,
}

/// Refreshing token provider; the mutex makes refreshes single-flight.
pub struct RefreshingToken {
    state: tokio::sync::Mutex<State>,
    refresher: Arc<dyn RefreshFn>,
    persister: Arc<dyn SecretsPersister>,
    clock: Arc<dyn Clock>,
}

impl RefreshingToken {
    pub fn new(
        refresh_token: SecretString,
        refresher: Arc<dyn RefreshFn>,
        persister: Arc<dyn SecretsPersister>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            state: tokio::sync::Mutex::new(State {
                refresh_token,
                current: None,
            }),
            refresher,
            persister,
            clock,
        }
    }
}

#[async_trait]
impl TokenProvider for RefreshingToken {
    async fn access_token(&self) -> Result<SecretString, ConnectorError> {
        let mut st = self.state.lock().await;
        if let Some((tok, exp)) = &st.current
            && *exp - Duration::minutes(1) > self.clock.now()
        {
            return Ok(tok.clone());
        }
        let set = self.refresher.refresh(&st.refresh_token).await?;
        if let Some(rt) = set.refresh_token {
            // Persist first: if this fails we must not use a token whose refresh partner is lost.
            self.persister.persist("refresh_token", &rt).await?;
            st.refresh_token = rt;
        }
        st.current = Some((set.access_token.clone(), set.expires_at));
        Ok(set.access_token)
    }

    async fn invalidate(&self) {
        self.state.lock().await.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use secrecy::ExposeSecret;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counter(AtomicUsize);
    #[async_trait]
    impl RefreshFn for Counter {
        async fn refresh(&self, rt: &SecretString) -> Result<TokenSet, ConnectorError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            assert_eq!(rt.expose_secret(), &format!("rt{n}"));
            Ok(TokenSet {
                access_token: format!("at{n}").into(),
                expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
                refresh_token: Some(format!("rt{}", n + 1).into()),
            })
        }
    }
    struct Keep(Mutex<Vec<String>>);
    #[async_trait]
    impl SecretsPersister for Keep {
        async fn persist(&self, _n: &str, v: &SecretString) -> Result<(), ConnectorError> {
            self.0.lock().unwrap().push(v.expose_secret().to_string());
            Ok(())
        }
    }

    #[tokio::test]
    async fn refreshes_once_per_expiry_and_persists_the_rotated_token() {
        let clock = Arc::new(ManualClock::new());
        let keep = Arc::new(Keep(Mutex::new(vec![])));
        let p = Arc::new(RefreshingToken::new(
            "rt0".to_string().into(),
            Arc::new(Counter(AtomicUsize::new(0))),
            keep.clone(),
            clock.clone(),
        ));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(
                    async move { p.access_token().await.unwrap().expose_secret().to_string() },
                )
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "at0");
        }
        clock.advance(Duration::hours(2));
        assert_eq!(p.access_token().await.unwrap().expose_secret(), "at1");
        assert_eq!(
            *keep.0.lock().unwrap(),
            vec!["rt1".to_string(), "rt2".to_string()]
        );
    }
}
