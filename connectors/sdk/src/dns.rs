//! Name resolution at connect time, through the SSRF policy: a public-looking name that
//! resolves to 127.0.0.1 (or flips to it later: DNS rebinding) is refused when the connection is
//! made, not only when the URL was checked.

use crate::net;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// What a connection-phase failure says. Policy refusals, missing DNS answers and refused
/// connections read the same, so `last_error` cannot be used to map an internal network.
pub(crate) const UNREACHABLE: &str = "endpoint unreachable or refused by network policy";

/// Resolves a hostname to addresses (injectable so tests can point a public-looking name at
/// loopback).
#[async_trait::async_trait]
pub trait Lookup: Send + Sync + 'static {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo` via tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

#[async_trait::async_trait]
impl Lookup for SystemLookup {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, 0))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

/// A fixed name → addresses table; names not in it have no answer (tests).
#[derive(Debug, Clone, Default)]
pub struct StaticLookup(pub std::collections::HashMap<String, Vec<IpAddr>>);

impl StaticLookup {
    pub fn with(mut self, host: &str, ips: &[IpAddr]) -> Self {
        self.0.insert(host.to_ascii_lowercase(), ips.to_vec());
        self
    }
}

#[async_trait::async_trait]
impl Lookup for StaticLookup {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        self.0
            .get(&host.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }
}

/// Resolves through [`Lookup`] and drops addresses the policy refuses; fails when none remain.
pub(crate) struct PolicyResolver {
    lookup: Arc<dyn Lookup>,
    allow_private: bool,
}

/// The resolver's refusal. Carries no address: reqwest may put it in its error chain.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(UNREACHABLE)
    }
}

impl std::error::Error for Refused {}

impl PolicyResolver {
    pub(crate) fn new(lookup: Arc<dyn Lookup>, allow_private: bool) -> Self {
        Self {
            lookup,
            allow_private,
        }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookup = self.lookup.clone();
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = match lookup.lookup(&host).await {
                Ok(ips) => ips,
                Err(_) => {
                    tracing::debug!("DNS lookup failed.");
                    return Err(Box::new(Refused) as _);
                }
            };
            let addrs: Vec<SocketAddr> = ips
                .into_iter()
                .filter(|ip| allow_private || net::is_public_ip(*ip))
                // Port 0: reqwest puts in the URL's port.
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if addrs.is_empty() {
                tracing::debug!("No public address for the endpoint; refused by network policy.");
                return Err(Box::new(Refused) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;
    use std::str::FromStr;

    fn table() -> Arc<dyn Lookup> {
        let ips: Vec<IpAddr> = ["10.0.0.1", "8.8.8.8", "::1", "2606:4700:4700::1111"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let private: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap()];
        Arc::new(
            StaticLookup::default()
                .with("mixed.example.com", &ips)
                .with("inside.example.com", &private),
        )
    }

    async fn resolve(allow_private: bool, name: &str) -> Result<Vec<String>, String> {
        let r = PolicyResolver::new(table(), allow_private);
        r.resolve(reqwest::dns::Name::from_str(name).unwrap())
            .await
            .map(|a| a.map(|s| s.to_string()).collect())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn strict_keeps_only_public_addresses() {
        assert_eq!(
            resolve(false, "mixed.example.com").await.unwrap(),
            ["8.8.8.8:0", "[2606:4700:4700::1111]:0"]
        );
        assert_eq!(resolve(true, "mixed.example.com").await.unwrap().len(), 4);
        assert_eq!(
            resolve(true, "inside.example.com").await.unwrap(),
            ["127.0.0.1:0"]
        );
    }

    #[tokio::test]
    async fn no_public_address_and_no_answer_fail_alike() {
        let refused = resolve(false, "inside.example.com").await.unwrap_err();
        let missing = resolve(false, "nowhere.example.com").await.unwrap_err();
        assert_eq!(refused, UNREACHABLE);
        assert_eq!(missing, refused);
    }
}
