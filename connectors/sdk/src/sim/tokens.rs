//! OAuth tokens of a simulated platform: access tokens that expire on the simulator's clock
//! and refresh tokens that rotate on use the way the platform rotates them. Times are unix
//! seconds of the simulator's clock.

use std::collections::HashMap;

/// What happens to a refresh token once it has been used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// It is reusable and the answer carries it again (Amazon LWA, eBay).
    Reusable,
    /// It dies at once (Sage).
    SingleUse,
    /// It stays usable this many seconds, in case the answer was lost (Xero: 1800).
    Grace(i64),
    /// It stays usable until its successor is used (Shopify since 2026-08-28).
    UntilSuccessorUsed,
}

/// How a platform issues tokens.
#[derive(Debug, Clone, Copy)]
pub struct TokenPolicy {
    pub access_prefix: &'static str,
    pub refresh_prefix: &'static str,
    pub access_ttl_secs: i64,
    /// Lifetime of a refresh token from its issue; `None`: it never expires.
    pub refresh_ttl_secs: Option<i64>,
    pub rotation: Rotation,
}

/// An issued pair, as a token endpoint answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessCheck {
    Valid,
    Expired,
    /// Not issued by this book (the platform may still accept it, e.g. a static token).
    Unknown,
}

struct Refresh {
    /// When it stops working (its own expiry, or the end of its grace after use).
    dies_at: Option<i64>,
    /// The token it replaced (`UntilSuccessorUsed`: that one dies when this one is used).
    predecessor: Option<String>,
    used: bool,
}

pub struct TokenBook {
    policy: TokenPolicy,
    /// Access token → expiry.
    access: HashMap<String, i64>,
    refresh: HashMap<String, Refresh>,
    counter: u64,
}

impl TokenBook {
    pub fn new(policy: TokenPolicy) -> Self {
        Self {
            policy,
            access: HashMap::new(),
            refresh: HashMap::new(),
            counter: 0,
        }
    }

    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:06}{:016x}", self.counter, rand::random::<u64>())
    }

    fn new_access(&mut self, now: i64) -> String {
        let at = self.fresh(self.policy.access_prefix);
        self.access
            .insert(at.clone(), now.saturating_add(self.policy.access_ttl_secs));
        at
    }

    fn new_pair(&mut self, now: i64, predecessor: Option<String>) -> TokenPair {
        let access_token = self.new_access(now);
        let refresh_token = self.fresh(self.policy.refresh_prefix);
        let dies_at = self.policy.refresh_ttl_secs.map(|t| now.saturating_add(t));
        self.refresh.insert(
            refresh_token.clone(),
            Refresh {
                dies_at,
                predecessor,
                used: false,
            },
        );
        TokenPair {
            access_token,
            refresh_token,
            expires_in: self.policy.access_ttl_secs,
        }
    }

    /// A new pair (an authorization code or client-credentials grant; the platform checks
    /// the grant itself).
    pub fn issue(&mut self, now: i64) -> TokenPair {
        self.new_pair(now, None)
    }

    /// A `refresh_token` grant: a new pair, or `None` (`invalid_grant`) for an unknown,
    /// expired, revoked or already-rotated token.
    pub fn refresh(&mut self, refresh_token: &str, now: i64) -> Option<TokenPair> {
        let r = self.refresh.get_mut(refresh_token)?;
        if r.dies_at.is_some_and(|d| now >= d) {
            self.refresh.remove(refresh_token);
            return None;
        }
        match self.policy.rotation {
            Rotation::Reusable => {
                let access_token = self.new_access(now);
                return Some(TokenPair {
                    access_token,
                    refresh_token: refresh_token.to_string(),
                    expires_in: self.policy.access_ttl_secs,
                });
            }
            Rotation::SingleUse => {
                self.refresh.remove(refresh_token);
            }
            Rotation::Grace(secs) => {
                // The grace runs from the first use; reuses inside it do not extend it.
                if !r.used {
                    r.used = true;
                    let end = now.saturating_add(secs);
                    r.dies_at = Some(r.dies_at.map_or(end, |d| d.min(end)));
                }
            }
            Rotation::UntilSuccessorUsed => {
                if let Some(p) = r.predecessor.take() {
                    self.refresh.remove(&p);
                }
            }
        }
        let predecessor = (self.policy.rotation == Rotation::UntilSuccessorUsed)
            .then(|| refresh_token.to_string());
        Some(self.new_pair(now, predecessor))
    }

    /// Whether `access_token` was issued here and is still valid at `now`.
    pub fn check(&self, access_token: &str, now: i64) -> AccessCheck {
        match self.access.get(access_token) {
            None => AccessCheck::Unknown,
            Some(exp) if now < *exp => AccessCheck::Valid,
            Some(_) => AccessCheck::Expired,
        }
    }

    /// `/_sim/expire_tokens`: every issued access token expires now (refresh tokens live
    /// on). Returns how many there were.
    pub fn expire_all(&mut self, now: i64) -> usize {
        for exp in self.access.values_mut() {
            *exp = (*exp).min(now);
        }
        self.access.len()
    }

    /// Revokes an access or refresh token (a merchant uninstalling, a password change).
    pub fn revoke(&mut self, token: &str) -> bool {
        self.access.remove(token).is_some() | self.refresh.remove(token).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(rotation: Rotation) -> TokenBook {
        TokenBook::new(TokenPolicy {
            access_prefix: "at_",
            refresh_prefix: "rt_",
            access_ttl_secs: 3600,
            refresh_ttl_secs: Some(86_400),
            rotation,
        })
    }

    #[test]
    fn access_tokens_expire_on_the_clock_and_on_demand() {
        let mut b = book(Rotation::SingleUse);
        let p = b.issue(100);
        assert!(p.access_token.starts_with("at_") && p.refresh_token.starts_with("rt_"));
        assert_eq!(p.expires_in, 3600);
        assert_eq!(b.check(&p.access_token, 3699), AccessCheck::Valid);
        assert_eq!(b.check(&p.access_token, 3700), AccessCheck::Expired);
        assert_eq!(b.check("at_other", 0), AccessCheck::Unknown);
        let q = b.issue(100);
        assert_eq!(b.expire_all(200), 2);
        assert_eq!(b.check(&q.access_token, 200), AccessCheck::Expired);
    }

    #[test]
    fn single_use_refresh_tokens_die_on_use() {
        let mut b = book(Rotation::SingleUse);
        let r0 = b.issue(0).refresh_token;
        let r1 = b.refresh(&r0, 10).unwrap().refresh_token;
        assert_ne!(r0, r1);
        assert!(b.refresh(&r0, 10).is_none());
        assert!(b.refresh(&r1, 10).is_some());
    }

    #[test]
    fn grace_keeps_a_used_token_for_a_while() {
        let mut b = book(Rotation::Grace(1800));
        let r0 = b.issue(0).refresh_token;
        assert!(b.refresh(&r0, 100).is_some());
        assert!(
            b.refresh(&r0, 1899).is_some(),
            "a lost answer can be retried"
        );
        assert!(
            b.refresh(&r0, 1900).is_none(),
            "the grace runs from the first use"
        );
    }

    #[test]
    fn until_successor_used_keeps_the_previous_token_until_the_new_one_is_used() {
        let mut b = book(Rotation::UntilSuccessorUsed);
        let r0 = b.issue(0).refresh_token;
        let r1 = b.refresh(&r0, 0).unwrap().refresh_token;
        // r0 still valid: r1 not used yet (a lost response must not lock the app out).
        let r1b = b.refresh(&r0, 0).unwrap().refresh_token;
        b.refresh(&r1b, 0).unwrap();
        assert!(
            b.refresh(&r0, 0).is_none(),
            "r0 dies once a successor is used"
        );
        assert!(b.refresh(&r1, 0).is_some());
    }

    #[test]
    fn reusable_tokens_come_back_and_refresh_tokens_expire() {
        let mut b = book(Rotation::Reusable);
        let r0 = b.issue(0).refresh_token;
        let p = b.refresh(&r0, 10).unwrap();
        assert_eq!(p.refresh_token, r0);
        assert_eq!(b.check(&p.access_token, 10), AccessCheck::Valid);
        assert!(
            b.refresh(&r0, 86_400).is_none(),
            "expired a day after issue"
        );
    }

    #[test]
    fn revoked_tokens_stop_working() {
        let mut b = book(Rotation::Reusable);
        let p = b.issue(0);
        assert!(b.revoke(&p.refresh_token) && b.revoke(&p.access_token));
        assert!(b.refresh(&p.refresh_token, 1).is_none());
        assert_eq!(b.check(&p.access_token, 1), AccessCheck::Unknown);
        assert!(!b.revoke("nope"));
    }
}
