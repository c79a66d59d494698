//! The raw Accounting API calls, each through [`Endpoint::call`] (rate gate, retries, redacted
//! logs), with the bearer token of the single-flight [`TokenProvider`], `xero-tenant-id`,
//! `Accept: application/json` (Xero answers XML without it), at most 5 calls in flight per
//! tenant, and the day limit observed from `X-DayLimit-Remaining`.

use crate::errors::{Limits, TOKEN_EXPIRED, limits, parse_error, validation_reason};
use crate::wire::{
    Allocation, Allocations, Contact, Contacts, CreditNote, CreditNotes, Currencies, Invoice,
    Invoices, TaxRates, TokenResponse, ValidationError,
};
use async_trait::async_trait;
use base64::Engine;
use ordersync_sdk::http::{Endpoint, RateGate, success_body};
use ordersync_sdk::{
    Clock, ConnectorError, FleetBudget, FleetLimit, RefreshFn, TokenProvider, TokenSet, budget_key,
};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// Xero's per-tenant concurrency limit.
pub const CONCURRENT_PER_TENANT: usize = 5;
const API: &str = "/api.xro/2.0";
/// Write query: 4-decimal unit amounts, per-item errors in a 200 answer.
const WRITE_QUERY: &[(&str, &str)] = &[("unitdp", "4"), ("summarizeErrors", "false")];

/// What every connection to one tenant (of one API host) shares: the minute gate and the
/// concurrency permits, so two connections to the same organisation do not double its limits.
struct Shared {
    gate: Arc<RateGate>,
    permits: Arc<Semaphore>,
}

/// The fleet budgets a connection counts against: its tenant's minute and its app's.
pub struct Budgets<'a> {
    pub budgets: &'a Arc<dyn FleetBudget>,
    /// The app's `client_id` (hashed into the budget keys, never stored).
    pub app: &'a str,
    pub app_rpm: u32,
}

fn shared(base: &str, tenant: &str, rpm: u32, b: &Budgets<'_>) -> (Arc<RateGate>, Arc<Semaphore>) {
    static MAP: OnceLock<Mutex<HashMap<String, Shared>>> = OnceLock::new();
    static APPS: OnceLock<Mutex<HashMap<String, Arc<FleetLimit>>>> = OnceLock::new();
    // One app limit per process, shared by all its tenants' gates so their chunks pool.
    let app_key = budget_key(crate::KIND, "app", &format!("{base}\n{}", b.app));
    let app = APPS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(app_key.clone())
        .or_insert_with(|| {
            let burst = (b.app_rpm / 10).max(1);
            let rate = f64::from(b.app_rpm.saturating_sub(burst).max(1)) / 60.0;
            Arc::new(FleetLimit::new(b.budgets.clone(), app_key, rate, burst))
        })
        .clone();
    let mut m = MAP
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let s = m.entry(format!("{base}|{tenant}")).or_insert_with(|| {
        // Xero counts a minute from its first call: burst b plus pace r stay within it
        // when b + r × 1 min ≤ rpm. The burst stays below the 5 calls a tenant may have
        // in flight, which every worker together must respect too.
        let burst = (rpm / 20).clamp(1, 3);
        let rate = f64::from(rpm.saturating_sub(burst).max(1)) / 60.0;
        let key = budget_key(
            crate::KIND,
            "tenant",
            &format!("{base}\n{}\n{tenant}", b.app),
        );
        let tenant = Arc::new(FleetLimit::new(b.budgets.clone(), key, rate, burst));
        Shared {
            // The tenant's minute first: it is the scarce one.
            gate: Arc::new(RateGate::fleet(vec![tenant, app])),
            permits: Arc::new(Semaphore::new(CONCURRENT_PER_TENANT)),
        }
    });
    (s.gate.clone(), s.permits.clone())
}

pub struct Client {
    endpoint: Endpoint,
    base: String,
    tenant: String,
    tokens: Arc<dyn TokenProvider>,
    permits: Arc<Semaphore>,
    clock: Arc<dyn Clock>,
    /// No calls before this (the day limit is spent).
    day_blocked_until: Mutex<Option<OffsetDateTime>>,
}

impl Client {
    pub fn new(
        mut endpoint: Endpoint,
        base_url: &str,
        tenant: &str,
        rpm: u32,
        budgets: &Budgets<'_>,
        tokens: Arc<dyn TokenProvider>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let base = base_url.trim_end_matches('/').to_string();
        let (gate, permits) = shared(&base, tenant, rpm, budgets);
        endpoint.gate = gate;
        Self {
            endpoint,
            base,
            tenant: tenant.to_string(),
            tokens,
            permits,
            clock,
            day_blocked_until: Mutex::new(None),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API}{path}", self.base)
    }

    pub async fn tax_rates(&self) -> Result<TaxRates, ConnectorError> {
        self.get("/TaxRates", &self.url("/TaxRates"), &[]).await
    }

    pub async fn currencies(&self) -> Result<Currencies, ConnectorError> {
        self.get("/Currencies", &self.url("/Currencies"), &[]).await
    }

    /// `GET /Contacts/{ContactNumber}`; `None` when there is none.
    pub async fn contact_by_number(&self, number: &str) -> Result<Option<Contact>, ConnectorError> {
        let url = self.url(&format!("/Contacts/{}", segment(number)?));
        match self
            .get::<Contacts>("/Contacts/{ContactNumber}", &url, &[])
            .await
        {
            Ok(c) => Ok(c.contacts.into_iter().next()),
            Err(ConnectorError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /Contacts?where=…` (values quoted by [`where_value`]).
    pub async fn contacts_where(&self, filter: &str) -> Result<Vec<Contact>, ConnectorError> {
        let c: Contacts = self
            .get("/Contacts", &self.url("/Contacts"), &[("where", filter)])
            .await?;
        Ok(c.contacts)
    }

    /// `PUT /Contacts` (create).
    pub async fn create_contact(&self, c: &Contact, key: &str) -> Result<Contact, ConnectorError> {
        let body = to_body(&Contacts {
            contacts: vec![c.clone()],
        })?;
        let got: Contacts = self
            .write("/Contacts", Method::PUT, &self.url("/Contacts"), body, key)
            .await?;
        let c = got.contacts.into_iter().next().ok_or_else(empty)?;
        check_errors(c.has_validation_errors == Some(true), &c.validation_errors)?;
        Ok(c)
    }

    /// `GET /Invoices?InvoiceNumbers=` → the ACCREC invoice with that number, if any
    /// (`page=1`: Xero lists line items only on paged reads).
    pub async fn invoice_by_number(&self, number: &str) -> Result<Option<Invoice>, ConnectorError> {
        let got: Invoices = self
            .get(
                "/Invoices",
                &self.url("/Invoices"),
                &[("InvoiceNumbers", number), ("page", "1"), ("unitdp", "4")],
            )
            .await?;
        Ok(got.invoices.into_iter().find(|i| {
            i.kind.as_deref() == Some("ACCREC") && i.invoice_number.as_deref() == Some(number)
        }))
    }

    /// `PUT /Invoices` (create) or `POST /Invoices` (update by `InvoiceID`).
    pub async fn save_invoice(
        &self,
        inv: &Invoice,
        method: Method,
        key: &str,
    ) -> Result<Invoice, ConnectorError> {
        let body = to_body(&Invoices {
            invoices: vec![inv.clone()],
        })?;
        if body.len() > crate::mapping::MAX_BODY_BYTES {
            return Err(ConnectorError::permanent(
                "the invoice exceeds Xero's 3.5 MB request limit (it is never split)",
            ));
        }
        let got: Invoices = self
            .write("/Invoices", method, &self.url("/Invoices"), body, key)
            .await?;
        let i = got.invoices.into_iter().next().ok_or_else(empty)?;
        check_errors(i.has_errors == Some(true), &i.validation_errors)?;
        Ok(i)
    }

    /// `GET /Invoices?InvoiceNumbers=a,b,…` → the ACCREC invoices holding any of those
    /// numbers (none may contain a comma; Xero pages 100 a page, callers ask for fewer).
    pub async fn invoices_by_numbers(
        &self,
        numbers: &[String],
    ) -> Result<Vec<Invoice>, ConnectorError> {
        let joined = numbers.join(",");
        let got: Invoices = self
            .get(
                "/Invoices",
                &self.url("/Invoices"),
                &[("InvoiceNumbers", &joined), ("page", "1"), ("unitdp", "4")],
            )
            .await?;
        Ok(got
            .invoices
            .into_iter()
            .filter(|i| i.kind.as_deref() == Some("ACCREC"))
            .collect())
    }

    /// `PUT /Contacts` of several contacts: one result per contact, in order (each element
    /// carries its own `ValidationErrors` with `summarizeErrors=false`).
    pub async fn create_contacts(
        &self,
        cs: Vec<Contact>,
        key: &str,
    ) -> Result<Vec<Result<Contact, ConnectorError>>, ConnectorError> {
        let n = cs.len();
        let body = to_body(&Contacts { contacts: cs })?;
        let got: Contacts = self
            .write("/Contacts", Method::PUT, &self.url("/Contacts"), body, key)
            .await?;
        if got.contacts.len() != n {
            return Err(empty());
        }
        Ok(got
            .contacts
            .into_iter()
            .map(|c| {
                check_errors(c.has_validation_errors == Some(true), &c.validation_errors)?;
                Ok(c)
            })
            .collect())
    }

    /// `PUT /Invoices` of several invoices: one result per invoice, in order. The caller
    /// keeps them under [`crate::mapping::MAX_BODY_BYTES`] together.
    pub async fn create_invoices(
        &self,
        invoices: Vec<Invoice>,
        key: &str,
    ) -> Result<Vec<Result<Invoice, ConnectorError>>, ConnectorError> {
        let n = invoices.len();
        let body = to_body(&Invoices { invoices })?;
        if body.len() > crate::mapping::MAX_BODY_BYTES {
            return Err(ConnectorError::permanent(
                "the invoices exceed Xero's 3.5 MB request limit",
            ));
        }
        let got: Invoices = self
            .write("/Invoices", Method::PUT, &self.url("/Invoices"), body, key)
            .await?;
        if got.invoices.len() != n {
            return Err(empty());
        }
        Ok(got
            .invoices
            .into_iter()
            .map(|i| {
                check_errors(i.has_errors == Some(true), &i.validation_errors)?;
                Ok(i)
            })
            .collect())
    }

    /// `GET /CreditNotes?where=CreditNoteNumber=="…"`.
    pub async fn credit_notes_numbered(
        &self,
        number: &str,
    ) -> Result<Vec<CreditNote>, ConnectorError> {
        let filter = format!("CreditNoteNumber=={}", where_value(number));
        let got: CreditNotes = self
            .get(
                "/CreditNotes",
                &self.url("/CreditNotes"),
                &[("where", &filter), ("unitdp", "4")],
            )
            .await?;
        Ok(got.credit_notes)
    }

    /// `PUT /CreditNotes` (create).
    pub async fn create_credit_note(
        &self,
        cn: &CreditNote,
        key: &str,
    ) -> Result<CreditNote, ConnectorError> {
        let body = to_body(&CreditNotes {
            credit_notes: vec![cn.clone()],
        })?;
        let got: CreditNotes = self
            .write(
                "/CreditNotes",
                Method::PUT,
                &self.url("/CreditNotes"),
                body,
                key,
            )
            .await?;
        let c = got.credit_notes.into_iter().next().ok_or_else(empty)?;
        check_errors(c.has_errors == Some(true), &c.validation_errors)?;
        Ok(c)
    }

    /// `PUT /CreditNotes/{CreditNoteID}/Allocations`.
    pub async fn allocate(
        &self,
        credit_note_id: &str,
        a: Allocation,
        key: &str,
    ) -> Result<(), ConnectorError> {
        let url = self.url(&format!(
            "/CreditNotes/{}/Allocations",
            segment(credit_note_id)?
        ));
        let body = to_body(&Allocations {
            allocations: vec![a],
        })?;
        let _: serde_json::Value = self
            .write(
                "/CreditNotes/{CreditNoteID}/Allocations",
                Method::PUT,
                &url,
                body,
                key,
            )
            .await?;
        Ok(())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        route: &'static str,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ConnectorError> {
        self.send(route, Method::GET, url, query, None, None).await
    }

    async fn write<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: Method,
        url: &str,
        body: Vec<u8>,
        key: &str,
    ) -> Result<T, ConnectorError> {
        self.send(route, method, url, WRITE_QUERY, Some(body), Some(key))
            .await
    }

    /// One call; a 401 `TokenExpired` invalidates the token and tries once more.
    async fn send<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ConnectorError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ConnectorError::retriable("shutting down"))?;
        for attempt in 0..2 {
            self.check_day_limit()?;
            let token = self.tokens.access_token().await?;
            let res = self
                .once(
                    route,
                    &method,
                    url,
                    query,
                    body.as_deref(),
                    idempotency_key,
                    &token,
                )
                .await;
            match res {
                Err(ConnectorError::Auth { reason }) if reason == TOKEN_EXPIRED && attempt == 0 => {
                    self.tokens.invalidate().await;
                }
                Err(ConnectorError::Auth { reason }) if reason == TOKEN_EXPIRED => {
                    return Err(ConnectorError::auth(
                        "xero 401: the access token is refused after a refresh",
                    ));
                }
                other => return other,
            }
        }
        Err(ConnectorError::auth("xero 401 unauthorized"))
    }

    #[allow(clippy::too_many_arguments)]
    async fn once<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: &Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
        token: &SecretString,
    ) -> Result<T, ConnectorError> {
        let http = self.endpoint.client.reqwest();
        let bearer = format!("Bearer {}", token.expose_secret());
        self.endpoint
            .call(
                route,
                || {
                    let mut b = http
                        .request(method.clone(), url)
                        .query(query)
                        .header("Authorization", &bearer)
                        .header("xero-tenant-id", &self.tenant)
                        .header("Accept", "application/json");
                    if let Some(k) = idempotency_key {
                        b = b.header("Idempotency-Key", k);
                    }
                    if let Some(body) = body {
                        b = b
                            .header("Content-Type", "application/json")
                            .body(body.to_vec());
                    }
                    b
                },
                |resp| async move {
                    let l = limits(resp.headers());
                    let retry =
                        ordersync_sdk::error::parse_retry_after(resp.headers().get("retry-after"));
                    let day_problem = resp
                        .headers()
                        .get("x-rate-limit-problem")
                        .is_some_and(|v| v.as_bytes() == b"day");
                    self.observe(l, retry, day_problem);
                    let bytes = success_body(resp, parse_error).await?;
                    // A garbled 2xx leaves the outcome unknown; retrying is safe: writes carry
                    // an Idempotency-Key and the invoice number is pre-checked.
                    serde_json::from_slice(&bytes).map_err(|_| {
                        ConnectorError::retriable("malformed response body (outcome unknown)")
                    })
                },
            )
            .await
    }

    /// Adapts to the announced limits: an empty minute pauses the gate; an empty day stops
    /// every call until it resets (Retry-After when given, else an hour).
    fn observe(&self, l: Limits, retry_after: Option<Duration>, day_problem: bool) {
        if l.minute_remaining == Some(0) {
            self.endpoint.gate.pause_for(Duration::from_secs(1));
        }
        if l.day_remaining == Some(0) || day_problem {
            let wait = retry_after.unwrap_or(Duration::from_secs(3600));
            let until = self.clock.now() + wait;
            *self
                .day_blocked_until
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(until);
        }
    }

    fn check_day_limit(&self) -> Result<(), ConnectorError> {
        let until = *self
            .day_blocked_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            let now = self.clock.now();
            if now < until {
                let secs = (until - now).whole_seconds().max(1) as u64;
                return Err(ConnectorError::RateLimited {
                    retry_after: Some(Duration::from_secs(secs)),
                });
            }
        }
        Ok(())
    }
}

fn empty() -> ConnectorError {
    ConnectorError::retriable("Xero answered without the document (outcome unknown)")
}

/// Per-item errors of a `summarizeErrors=false` answer (a 200 with `HasErrors`).
fn check_errors(has: bool, errs: &[ValidationError]) -> Result<(), ConnectorError> {
    if has || !errs.is_empty() {
        let refs: Vec<&ValidationError> = errs.iter().collect();
        return Err(ConnectorError::permanent(validation_reason(&refs)));
    }
    Ok(())
}

fn to_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ConnectorError> {
    serde_json::to_vec(v).map_err(|_| ConnectorError::permanent("cannot serialise request"))
}

/// Ids and numbers go into paths: refuse anything that would need escaping.
fn segment(id: &str) -> Result<&str, ConnectorError> {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(id)
    } else {
        Err(ConnectorError::permanent("id is not a valid Xero id"))
    }
}

/// A `where` string literal: `"…"` with `\` and `"` escaped.
pub fn where_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// The `refresh_token` grant at Xero's identity server (HTTP Basic client credentials).
pub struct OAuthRefresh {
    pub endpoint: Endpoint,
    pub token_url: String,
    pub client_id: SecretString,
    pub client_secret: SecretString,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl RefreshFn for OAuthRefresh {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                self.client_id.expose_secret(),
                self.client_secret.expose_secret()
            ))
        );
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let build = || {
            self.endpoint
                .client
                .reqwest()
                .post(&self.token_url)
                .header("Authorization", &auth)
                .header("Accept", "application/json")
                .form(&form)
        };
        let handle = |resp: reqwest::Response| async move {
            let status = resp.status().as_u16();
            if status == 400 || status == 401 {
                // invalid_grant / invalid_client: a lost or reused refresh token, never
                // transient: the merchant must connect again.
                return Err(ConnectorError::auth(
                    "xero token refresh refused (invalid_grant): reconnect the organisation",
                ));
            }
            let bytes = success_body(resp, parse_error).await?;
            serde_json::from_slice::<TokenResponse>(&bytes)
                .map_err(|_| ConnectorError::retriable("malformed token response"))
        };
        let t = self.endpoint.call("/connect/token", build, handle).await?;
        if t.access_token.is_empty() {
            return Err(ConnectorError::permanent("token response without a token"));
        }
        Ok(TokenSet {
            access_token: t.access_token.into(),
            expires_at: self.clock.now()
                + time::Duration::seconds(t.expires_in.unwrap_or(1800).clamp(0, 86_400)),
            refresh_token: t.refresh_token.filter(|s| !s.is_empty()).map(Into::into),
        })
    }
}
