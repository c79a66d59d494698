//! Access tokens. Platforms with expiring tokens (Shopify expiring offline tokens, Amazon LWA,
//! eBay, Xero, Sage) rotate the refresh token on every use, so a refresh must be
//! single-flight per connection — across every process sharing the connection, not only
//! within one — and the new refresh token persisted *before* the new access token is used:
//! otherwise a crash loses the only valid refresh token.
//!
//! Across processes, [`SecretsPersister::begin_refresh`] takes the persister's lock for the
//! connection and hands back the stored refresh token, which another process may have rotated
//! since this one read it; the rotated token is written back through the same
//! [`RefreshGuard`] (compare-and-swap) before the lock is released.

use crate::clock::Clock;
use crate::error::{ConnectorError, ErrorClass};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The secret [`RefreshingToken`] rotates.
const REFRESH_TOKEN: &str = "refresh_token";
/// Attempts to store a rotated refresh token before the refresh fails (the token is kept in
/// memory then, and stored first thing on the next call).
const STORE_ATTEMPTS: u32 = 5;

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

    /// Starts a refresh of secret `name`. A persister shared by several processes takes its
    /// fleet-wide lock for the connection here (waiting, within a bound, while another
    /// process refreshes) and returns the stored value, newer than the caller's when another
    /// process rotated it. The default coordinates nothing: the caller's own value is used
    /// and a rotated one goes to [`SecretsPersister::persist`].
    async fn begin_refresh(&self, name: &str) -> Result<RefreshGuard, ConnectorError> {
        let _ = name;
        Ok(RefreshGuard::local())
    }
}

/// What a coordinating persister holds while one refresh runs (the service: a lease on the
/// connection in its database).
#[async_trait]
pub trait RefreshHold: Send + Sync + 'static {
    /// Stores `value` as the successor of `used` (the refresh token the platform just
    /// rotated): compare-and-swap, so a value someone else stored meanwhile (the merchant
    /// re-authorised) is not overwritten. One attempt; the caller retries failures.
    async fn commit(&self, used: &SecretString, value: &SecretString)
    -> Result<(), ConnectorError>;
    /// Ends the hold, rotated or not.
    async fn release(&self);
}

/// One refresh's hold on a secret, from [`SecretsPersister::begin_refresh`]. Release it with
/// [`RefreshGuard::release`]; one dropped unreleased (a cancelled task) is released in the
/// background, and a lock whose holder died expires.
pub struct RefreshGuard {
    stored: Option<SecretString>,
    hold: Option<Box<dyn RefreshHold>>,
}

impl RefreshGuard {
    /// A hold on a stored secret whose stored value is `stored`.
    pub fn new(stored: Option<SecretString>, hold: Box<dyn RefreshHold>) -> Self {
        Self {
            stored,
            hold: Some(hold),
        }
    }

    /// No coordination and nothing stored (a persister for one process, or none).
    pub fn local() -> Self {
        Self {
            stored: None,
            hold: None,
        }
    }

    /// The secret as stored when the hold was taken.
    pub fn stored(&self) -> Option<&SecretString> {
        self.stored.as_ref()
    }

    async fn commit(
        &self,
        persister: &dyn SecretsPersister,
        name: &str,
        used: &SecretString,
        value: &SecretString,
    ) -> Result<(), ConnectorError> {
        match &self.hold {
            Some(h) => h.commit(used, value).await,
            None => persister.persist(name, value).await,
        }
    }

    pub async fn release(mut self) {
        if let Some(h) = self.hold.take() {
            h.release().await;
        }
    }
}

impl Drop for RefreshGuard {
    fn drop(&mut self) {
        if let Some(h) = self.hold.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move { h.release().await });
        }
    }
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
    /// A rotated refresh token that could not be stored yet, with the access token that came
    /// with it: kept, never dropped, and stored before anything else on the next call (the
    /// access token is handed out only once its partner is stored).
    unstored: Option<(SecretString, SecretString, OffsetDateTime)>,
}

/// Refreshing token provider; the mutex makes refreshes single-flight in this process, the
/// persister's [`RefreshGuard`] across processes.
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
                unstored: None,
            }),
            refresher,
            persister,
            clock,
        }
    }
}

impl RefreshingToken {
    fn fresh(&self, exp: OffsetDateTime) -> bool {
        exp - Duration::minutes(1) > self.clock.now()
    }

    /// The refresh itself, under the guard.
    async fn refresh_held(
        &self,
        st: &mut State,
        guard: &RefreshGuard,
    ) -> Result<SecretString, ConnectorError> {
        if let Some((rt, at, exp)) = st.unstored.take() {
            // Our last rotation used up the stored token: its successor is stored first.
            if let Err(e) = self.store_rotated(guard, &st.refresh_token, &rt).await {
                st.unstored = Some((rt, at, exp));
                return Err(e);
            }
            st.refresh_token = rt;
            if self.fresh(exp) {
                st.current = Some((at.clone(), exp));
                return Ok(at);
            }
        } else if let Some(stored) = guard.stored() {
            // Another process may have rotated it since this instance was built.
            st.refresh_token = stored.clone();
        }
        let set = self.refresher.refresh(&st.refresh_token).await?;
        if let Some(rt) = set.refresh_token
            && rt.expose_secret() != st.refresh_token.expose_secret()
        {
            // Stored first: the new access token is not used while its partner could be lost.
            if let Err(e) = self.store_rotated(guard, &st.refresh_token, &rt).await {
                tracing::error!(
                    class = e.class().as_str(),
                    "A rotated refresh token could not be stored; it is kept in memory and stored before the next refresh."
                );
                st.unstored = Some((rt, set.access_token, set.expires_at));
                return Err(match e.class() {
                    ErrorClass::Permanent => e,
                    _ => ConnectorError::retriable("the rotated refresh token is not stored yet"),
                });
            }
            st.refresh_token = rt;
        }
        st.current = Some((set.access_token.clone(), set.expires_at));
        Ok(set.access_token)
    }

    /// Stores a rotated refresh token, retrying (with backoff, the guard still held) what
    /// may pass: a database blip must not cost the connection its only valid token.
    async fn store_rotated(
        &self,
        guard: &RefreshGuard,
        used: &SecretString,
        rt: &SecretString,
    ) -> Result<(), ConnectorError> {
        let mut delay = std::time::Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            match guard
                .commit(&*self.persister, REFRESH_TOKEN, used, rt)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) if e.class() == ErrorClass::Permanent || attempt >= STORE_ATTEMPTS => {
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(
                        attempt,
                        class = e.class().as_str(),
                        "Storing a rotated refresh token failed; retrying."
                    );
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
            }
        }
    }
}

#[async_trait]
impl TokenProvider for RefreshingToken {
    async fn access_token(&self) -> Result<SecretString, ConnectorError> {
        let mut st = self.state.lock().await;
        if let Some((tok, exp)) = &st.current
            && self.fresh(*exp)
        {
            return Ok(tok.clone());
        }
        let guard = self.persister.begin_refresh(REFRESH_TOKEN).await?;
        let out = self.refresh_held(&mut st, &guard).await;
        guard.release().await;
        out
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

    /// A platform whose refresh tokens are single-use: a used one is refused (`Auth`).
    struct SingleUse {
        valid: Mutex<std::collections::HashSet<String>>,
        issued: AtomicUsize,
        clock: Arc<ManualClock>,
    }
    impl SingleUse {
        fn new(first: &str, clock: &Arc<ManualClock>) -> Arc<Self> {
            Arc::new(Self {
                valid: Mutex::new([first.to_string()].into()),
                issued: AtomicUsize::new(0),
                clock: clock.clone(),
            })
        }
    }
    #[async_trait]
    impl RefreshFn for SingleUse {
        async fn refresh(&self, rt: &SecretString) -> Result<TokenSet, ConnectorError> {
            // Another refresh may interleave here unless the callers coordinate.
            tokio::task::yield_now().await;
            if !self.valid.lock().unwrap().remove(rt.expose_secret()) {
                return Err(ConnectorError::Auth {
                    reason: "invalid_grant".into(),
                });
            }
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            self.valid.lock().unwrap().insert(format!("rt{n}"));
            Ok(TokenSet {
                access_token: format!("at{n}").into(),
                expires_at: self.clock.now() + Duration::hours(1),
                refresh_token: Some(format!("rt{n}").into()),
            })
        }
    }

    /// The secret as several processes share it: one lock, a stored value, and commits that
    /// can be made to fail.
    struct Shared {
        lock: Arc<tokio::sync::Mutex<()>>,
        stored: Mutex<String>,
        fail_commits: AtomicUsize,
        commits: AtomicUsize,
    }
    struct SharedPersister(Arc<Shared>);
    struct SharedHold(
        Arc<Shared>,
        #[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>,
    );
    #[async_trait]
    impl SecretsPersister for SharedPersister {
        async fn persist(&self, _n: &str, _v: &SecretString) -> Result<(), ConnectorError> {
            unreachable!("rotations go through the guard")
        }
        async fn begin_refresh(&self, _name: &str) -> Result<RefreshGuard, ConnectorError> {
            let held = self.0.lock.clone().lock_owned().await;
            let stored = self.0.stored.lock().unwrap().clone();
            Ok(RefreshGuard::new(
                Some(stored.into()),
                Box::new(SharedHold(self.0.clone(), held)),
            ))
        }
    }
    #[async_trait]
    impl RefreshHold for SharedHold {
        async fn commit(
            &self,
            used: &SecretString,
            v: &SecretString,
        ) -> Result<(), ConnectorError> {
            self.0.commits.fetch_add(1, Ordering::SeqCst);
            if self
                .0
                .fail_commits
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(ConnectorError::retriable("database unavailable"));
            }
            let mut stored = self.0.stored.lock().unwrap();
            if *stored == used.expose_secret() {
                *stored = v.expose_secret().to_string();
            }
            Ok(())
        }
        async fn release(&self) {}
    }
    fn shared(first: &str) -> Arc<Shared> {
        Arc::new(Shared {
            lock: Arc::default(),
            stored: Mutex::new(first.to_string()),
            fail_commits: AtomicUsize::new(0),
            commits: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn processes_sharing_a_connection_refresh_one_at_a_time_with_the_stored_token() {
        let clock = Arc::new(ManualClock::new());
        let platform = SingleUse::new("rt0", &clock);
        let fleet = shared("rt0");
        // Two "processes", each with the token it was built with.
        let [a, b] = [0, 1].map(|_| {
            Arc::new(RefreshingToken::new(
                "rt0".to_string().into(),
                platform.clone(),
                Arc::new(SharedPersister(fleet.clone())),
                clock.clone(),
            ))
        });
        for _ in 0..3 {
            let (x, y) = tokio::join!(a.access_token(), b.access_token());
            x.expect("a refreshes");
            y.expect("b refreshes with the token a rotated, not its own");
            clock.advance(Duration::hours(2));
        }
        assert_eq!(platform.issued.load(Ordering::SeqCst), 6);
        assert_eq!(*fleet.stored.lock().unwrap(), "rt6");
    }

    #[tokio::test]
    async fn a_rotated_token_that_cannot_be_stored_is_retried_and_never_lost() {
        let clock = Arc::new(ManualClock::new());
        let platform = SingleUse::new("rt0", &clock);
        let fleet = shared("rt0");
        let p = RefreshingToken::new(
            "rt0".to_string().into(),
            platform.clone(),
            Arc::new(SharedPersister(fleet.clone())),
            clock.clone(),
        );
        // Two failures: retried while the lock is held, and the refresh succeeds.
        fleet.fail_commits.store(2, Ordering::SeqCst);
        assert_eq!(p.access_token().await.unwrap().expose_secret(), "at1");
        assert_eq!(fleet.commits.load(Ordering::SeqCst), 3);
        assert_eq!(*fleet.stored.lock().unwrap(), "rt1");

        // The store stays down: the call fails retriably and its new token stays in memory.
        clock.advance(Duration::hours(2));
        fleet.fail_commits.store(usize::MAX, Ordering::SeqCst);
        let e = p.access_token().await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Retriable);
        assert_eq!(*fleet.stored.lock().unwrap(), "rt1", "rt1 is used up");
        // Back: the kept token is stored before anything else, with no second refresh.
        fleet.fail_commits.store(0, Ordering::SeqCst);
        assert_eq!(p.access_token().await.unwrap().expose_secret(), "at2");
        assert_eq!(*fleet.stored.lock().unwrap(), "rt2");
        assert_eq!(platform.issued.load(Ordering::SeqCst), 2);
    }
}
