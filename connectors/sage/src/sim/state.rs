//! Simulator state: per business, its contacts, invoices and credit notes (SDK
//! [`ObjectBook`]s) and stored idempotent answers; the token book; a fixed window per business.

use super::SimOptions;
use super::errors::too_many;
use crate::wire::{ContactBody, Line};
use axum::response::Response;
use ordersync_sdk::sim::{
    FaultAnswers, FixedWindow, GramIndex, ObjectBook, PerKey, Rotation, SimCore, TokenBook,
    TokenPolicy, WindowHit,
};
use ordersync_sdk::{Clock, Decimal};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

/// Refresh tokens live 31 days (Sage staff, sageone_api_php_sample#39).
pub const REFRESH_TTL_SECS: i64 = 31 * 24 * 3600;

/// A sales invoice or credit note as stored.
#[derive(Debug, Clone)]
pub struct ArtefactRec {
    pub contact_id: String,
    pub date: String,
    pub original_invoice_date: Option<String>,
    pub reference: Option<String>,
    pub notes: Option<String>,
    pub currency: String,
    pub lines: Vec<Line>,
    pub ship_net: Decimal,
    pub ship_rate: Option<String>,
    pub ship_tax: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    pub paid: Decimal,
    pub status: &'static str,
    pub void_reason: Option<String>,
    pub deleted_at: Option<OffsetDateTime>,
}

#[derive(Default)]
pub struct Books {
    pub contacts: ObjectBook<ContactBody>,
    pub invoices: ObjectBook<ArtefactRec>,
    pub credit_notes: ObjectBook<ArtefactRec>,
    /// `search=` narrowed as on the platform, not a scan per request: invoice and credit note
    /// references, and contact names and references (every text they are given).
    pub invoice_refs: GramIndex,
    pub credit_refs: GramIndex,
    pub contact_text: GramIndex,
    /// `<resource>:<idempotency_id>` → the status and body first answered.
    pub replay: HashMap<String, (u16, Vec<u8>)>,
}

pub struct Auth {
    pub book: TokenBook,
    /// Pre-authorised refresh tokens already exchanged (single use like the rest).
    pub consumed: HashSet<String>,
}

pub struct SimState {
    pub core: SimCore,
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    auth: Mutex<Auth>,
    books: Mutex<HashMap<String, Books>>,
    windows: PerKey<FixedWindow>,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

/// Sage's own 429 shape for injected ones (whether Sage sends `Retry-After` is unknown, so
/// injected ones carry none); other faults are the generic ones.
impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        too_many(None)
    }
}

fn token_book(opts: &SimOptions) -> TokenBook {
    TokenBook::new(TokenPolicy {
        access_prefix: "sat_",
        refresh_prefix: "srt_",
        access_ttl_secs: opts.access_ttl_secs,
        refresh_ttl_secs: Some(REFRESH_TTL_SECS),
        rotation: Rotation::SingleUse,
    })
}

impl SimState {
    pub fn new(opts: SimOptions, clock: Arc<dyn Clock>) -> Self {
        Self {
            core: SimCore::default(),
            auth: Mutex::new(Auth {
                book: token_book(&opts),
                consumed: HashSet::new(),
            }),
            opts,
            clock,
            books: Mutex::new(HashMap::new()),
            windows: PerKey::default(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn auth(&self) -> MutexGuard<'_, Auth> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn all_books(&self) -> MutexGuard<'_, HashMap<String, Books>> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a business's books (created empty on first use).
    pub fn books<R>(&self, business: &str, f: impl FnOnce(&mut Books) -> R) -> R {
        let mut all = self.all_books();
        f(all.entry(business.to_string()).or_default())
    }

    pub fn lead(&self) -> String {
        self.opts
            .businesses
            .as_ref()
            .and_then(|b| b.first().cloned())
            .unwrap_or_else(|| super::LEAD_BUSINESS.to_string())
    }

    pub fn knows_business(&self, id: &str) -> bool {
        self.opts
            .businesses
            .as_ref()
            .is_none_or(|b| b.iter().any(|x| x == id))
    }

    pub fn count_request(&self, business: &str) -> WindowHit {
        let (limit, secs) = (self.opts.requests_per_window, self.opts.window_secs);
        let now = self.now();
        self.windows
            .with(business, || FixedWindow::new(limit, secs), |w| w.hit(now))
    }

    pub fn rate(&self, id: &str) -> Option<&super::SimRate> {
        self.opts.tax_rates.iter().find(|r| r.id == id)
    }

    /// `/_sim/reset`: empty books, fresh tokens and windows, counters at zero, faults off.
    pub fn reset(&self) {
        self.all_books().clear();
        *self.auth() = Auth {
            book: token_book(&self.opts),
            consumed: HashSet::new(),
        };
        self.windows.clear();
        self.core.reset();
    }
}

/// The business's ledger accounts: (nominal code, name, type).
pub const LEDGERS: &[(u32, &str, &str)] = &[
    (1100, "Debtors Control Account", "CURRENT_ASSETS"),
    (2110, "Gift Card Liability", "CURRENT_LIABILITY"),
    (2201, "Marketplace Tax Collected", "CURRENT_LIABILITY"),
    (4000, "Sales Type A", "SALES"),
    (4900, "Miscellaneous Income", "OTHER_INCOME"),
    (4905, "Distribution and Carriage", "SALES"),
];

/// Sage ids are 32 hex characters; ours encode the kind and the number.
pub fn ledger_id(code: u32) -> String {
    format!("9a99{code:028x}")
}

pub fn ledger_by_id(id: &str) -> Option<&'static (u32, &'static str, &'static str)> {
    LEDGERS.iter().find(|l| ledger_id(l.0) == id)
}

pub fn object_id(kind: char, num: u64) -> String {
    format!("{kind}{num:031x}")
}

pub fn parse_object_id(kind: char, id: &str) -> Option<u64> {
    let rest = id.strip_prefix(kind)?;
    if rest.len() != 31 {
        return None;
    }
    u64::from_str_radix(rest, 16).ok()
}
