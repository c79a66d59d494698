//! Typed connector errors. Each connector classifies a platform's answer once (its `errors.rs`);
//! the engine decides what to do by [`ErrorClass`], never by message text.

use std::time::Duration;

/// `Clone`: a failed batch request fails each of its deliveries with the same error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// Transient: network, timeout, 5xx. Retry with backoff.
    #[error("retriable: {reason}")]
    Retriable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The platform throttled us. Retry after the hint.
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// Credentials rejected or expired beyond refresh: the connection needs re-authorisation.
    #[error("authentication failed: {reason}")]
    Auth { reason: String },
    /// Will never succeed as is (bad request, malformed body, business rule). Dead-letter it.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
    /// The object does not exist at the platform.
    #[error("not found")]
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Retriable,
    RateLimited,
    Auth,
    Permanent,
    NotFound,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Retriable => "retriable",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Auth => "auth",
            ErrorClass::Permanent => "permanent",
            ErrorClass::NotFound => "not_found",
        }
    }
}

impl ConnectorError {
    pub fn permanent(reason: impl Into<String>) -> Self {
        ConnectorError::Permanent {
            reason: reason.into(),
        }
    }

    pub fn retriable(reason: impl Into<String>) -> Self {
        ConnectorError::Retriable {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn auth(reason: impl Into<String>) -> Self {
        ConnectorError::Auth {
            reason: reason.into(),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            ConnectorError::Retriable { .. } => ErrorClass::Retriable,
            ConnectorError::RateLimited { .. } => ErrorClass::RateLimited,
            ConnectorError::Auth { .. } => ErrorClass::Auth,
            ConnectorError::Permanent { .. } => ErrorClass::Permanent,
            ConnectorError::NotFound => ErrorClass::NotFound,
        }
    }

    pub fn is_retriable(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::Retriable | ErrorClass::RateLimited
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::Retriable { retry_after, .. }
            | ConnectorError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Classifies an HTTP status the way most REST platforms mean it. Connectors call this from
    /// their own `errors.rs` and override what their platform says differently. `reason` must
    /// not contain PII or secrets (pass a code or the status text, never a body).
    pub fn from_status(
        status: u16,
        retry_after: Option<Duration>,
        reason: impl Into<String>,
    ) -> Self {
        let reason = reason.into();
        match status {
            401 | 403 => ConnectorError::Auth { reason },
            404 | 410 => ConnectorError::NotFound,
            408 | 425 | 500..=599 => ConnectorError::Retriable {
                reason,
                retry_after,
            },
            429 => ConnectorError::RateLimited { retry_after },
            _ => ConnectorError::Permanent { reason },
        }
    }

    /// A transport error from reqwest: timeouts and connection failures are retriable. The
    /// message is a coarse class only: reqwest's text may include the URL with query values,
    /// and addresses, ports or resolver details would let a merchant map an internal network
    /// through `last_error`. Every connection-phase failure (refused by the network policy, no
    /// DNS answer, connection refused, connect timeout) reads the same.
    pub fn from_transport(e: &reqwest::Error) -> Self {
        let kind = if e.is_connect() {
            crate::dns::UNREACHABLE
        } else if e.is_timeout() {
            "timed out"
        } else if e.is_body() || e.is_decode() {
            "connection failed while reading the response"
        } else {
            "connection failed"
        };
        ConnectorError::retriable(kind)
    }
}

/// Parses `Retry-After` as seconds (fractional allowed, as Shopify sends).
pub fn parse_retry_after(v: Option<&http::HeaderValue>) -> Option<Duration> {
    let s = v?.to_str().ok()?.trim();
    let secs: f64 = s.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        assert_eq!(
            ConnectorError::from_status(429, None, "x").class(),
            ErrorClass::RateLimited
        );
        assert_eq!(
            ConnectorError::from_status(503, None, "x").class(),
            ErrorClass::Retriable
        );
        assert_eq!(
            ConnectorError::from_status(401, None, "x").class(),
            ErrorClass::Auth
        );
        assert_eq!(
            ConnectorError::from_status(422, None, "x").class(),
            ErrorClass::Permanent
        );
        assert_eq!(
            ConnectorError::from_status(404, None, "x").class(),
            ErrorClass::NotFound
        );
    }

    #[test]
    fn retry_after_parses_fractional_seconds() {
        let v = http::HeaderValue::from_static("2.5");
        assert_eq!(
            parse_retry_after(Some(&v)),
            Some(Duration::from_millis(2500))
        );
        let bad = http::HeaderValue::from_static("soon");
        assert_eq!(parse_retry_after(Some(&bad)), None);
    }
}
