//! Simulator state: trackings in the SDK's [`ObjectBook`] with AfterShip's unique
//! `(slug, tracking_number)` index over the live ones, per-endpoint buckets per key, and the
//! shared fault/stats core.

use super::SimOptions;
use super::errors::too_many;
use super::gate::Class;
use super::progress::stage_at;
use crate::wire::TrackingBody;
use axum::response::Response;
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{Entry, FaultAnswers, LeakyBucket, ObjectBook, PerKey, SimCore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

pub type Stored = Entry<TrackingBody>;

#[derive(Default)]
pub struct Book {
    pub objects: ObjectBook<TrackingBody>,
    /// `slug \n tracking_number` → number, for live (not deleted) trackings.
    live: HashMap<String, u64>,
}

fn pair(slug: &str, number: &str) -> String {
    format!("{slug}\n{number}")
}

impl Book {
    pub fn find(&self, slug: &str, number: &str) -> Option<u64> {
        self.live.get(&pair(slug, number)).copied()
    }

    pub fn insert(
        &mut self,
        slug: &str,
        number: &str,
        body: TrackingBody,
        now: OffsetDateTime,
    ) -> u64 {
        let num = self.objects.insert(None, body, now);
        self.live.insert(pair(slug, number), num);
        num
    }

    /// A live tracking by id.
    pub fn live_mut(&mut self, id: &str) -> Option<&mut Stored> {
        self.objects.get_mut(parse_id(id)?).filter(|e| !e.cancelled)
    }

    pub fn live(&self, id: &str) -> Option<&Stored> {
        self.objects.get(parse_id(id)?).filter(|e| !e.cancelled)
    }

    pub fn delete(&mut self, id: &str) -> bool {
        let Some(e) = self.live_mut(id) else {
            return false;
        };
        e.cancelled = true;
        let key = pair(
            e.body.slug.as_deref().unwrap_or(""),
            e.body.tracking_number.as_deref().unwrap_or(""),
        );
        self.live.remove(&key);
        true
    }

    pub fn iter_live(&self) -> impl Iterator<Item = &Stored> {
        self.objects.iter().filter(|e| !e.cancelled)
    }
}

/// `updated_at` as of `now`: the last PUT or the last tag change, whichever is later.
pub fn updated_at(e: &Stored, now: OffsetDateTime) -> OffsetDateTime {
    e.modified_at.max(stage_at(e.created_at, e.num(), now).1)
}

/// 32 hex characters, like AfterShip's ids.
pub fn tracking_id(num: u64) -> String {
    format!("a5{num:030x}")
}

pub fn parse_id(id: &str) -> Option<u64> {
    let rest = id.strip_prefix("a5").filter(|_| id.len() == 32)?;
    u64::from_str_radix(rest, 16).ok()
}

/// What one request did to its bucket: the `X-RateLimit-*` values of the answer.
pub struct RateHit {
    pub admitted: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_unix: i64,
}

pub struct SimState {
    pub core: SimCore,
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    book: Mutex<Book>,
    buckets: PerKey<LeakyBucket>,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

/// AfterShip's own 429 for injected ones (with a reset a second away).
impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        let mut r = too_many();
        let reset = self.clock.now().unix_timestamp() + 1;
        let h = r.headers_mut();
        h.insert("x-ratelimit-reset", reset.into());
        h.insert("x-ratelimit-remaining", 0.into());
        r
    }
}

impl SimState {
    pub fn new(opts: SimOptions, clock: Arc<dyn Clock>) -> Self {
        Self {
            core: SimCore::default(),
            opts,
            clock,
            book: Mutex::new(Book::default()),
            buckets: PerKey::default(),
        }
    }

    pub fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one request from the key's bucket of that endpoint (a bucket of `limit` that
    /// drains `limit` a second: AfterShip's "n requests per second").
    pub fn take_rate(&self, key: &str, class: Class) -> RateHit {
        let limit = match class {
            Class::Create => self.opts.create_per_second,
            Class::List => self.opts.list_per_second,
            Class::ById => self.opts.by_id_per_second,
        }
        .max(1);
        let now = self.clock.now();
        let cap = f64::from(limit);
        self.buckets.with(
            &format!("{key}\n{}", class.name()),
            || LeakyBucket::new(cap, cap, now),
            |b| {
                let admitted = b.try_take(1.0, now);
                // Empty again (the whole allowance back) this many seconds from now.
                let drain = b.used() / b.rate();
                let reset = now + time::Duration::seconds_f64(drain);
                RateHit {
                    admitted,
                    limit,
                    remaining: b.available().floor().max(0.0) as u32,
                    reset_unix: reset.unix_timestamp() + i64::from(reset.nanosecond() > 0),
                }
            },
        )
    }

    /// `/_sim/reset`: empty account, fresh buckets, counters at zero, faults off.
    pub fn reset(&self) {
        *self.book() = Book::default();
        self.buckets.clear();
        self.core.reset();
    }
}
