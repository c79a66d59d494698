//! The generic half of every platform simulator (feature `sim`), so that a simulator writes only
//! what is platform-specific:
//!
//! - [`SimCore`]: request counters, fault configuration and `/_sim/reset` semantics;
//! - [`with_faults`]: fault injection as a layer over the API routes, answering with the
//!   platform's own 429/5xx shapes ([`FaultAnswers`]);
//! - [`OrderBook`]: seeded orders of a source, indexed so a filtered, sorted page is O(page);
//! - [`ObjectBook`]: what a target holds, by number and by idempotency key, for
//!   `/_sim/received`;
//! - [`TokenBook`]: OAuth access tokens with expiry and rotating refresh tokens;
//! - [`LeakyBucket`], [`FixedWindow`] and [`PerKey`]: rate limiters;
//! - typed control-plane bodies ([`SeedRequest`], [`SimStats`], [`Received`], …) shared by the
//!   simulators, the demo and tests;
//! - [`DEMO_TAX_RATES`], the rates the accounting simulators' demo business has;
//! - deterministic canary buyers ([`fake_buyer`]) and serving on loopback ([`SimServer`]).

pub mod book;
mod buyer;
mod control;
mod faults;
pub mod limit;
mod objects;
mod rates;
mod server;
mod simcore;
mod text;
pub mod tokens;

pub use book::{BookOrder, Key, OrderBook, Page, PageQuery, SeedCtx, SeedWindow, SortKey};
pub use buyer::{FakeBuyer, fake_buyer};
pub use control::{
    Expected, ExpiredResponse, HoldRequest, Received, ReceivedObject, RejectRequest, SeedRequest,
    SeedResponse, SimStats, UpdateRequest, UpdateResponse, held_handler, set_faults_handler,
    set_hold_handler, set_rejects_handler,
};
pub use faults::{FaultAnswers, FaultConfig, FaultKind, fault_gate, fault_response, with_faults};
pub use limit::{FixedWindow, LeakyBucket, PerKey, WindowHit};
pub use objects::{Entry, ObjectBook};
pub use rates::{DEMO_TAX_RATES, DemoRate};
pub use server::SimServer;
pub use simcore::SimCore;
pub use text::{GramIndex, contains_ci, eq_ci};
pub use tokens::{AccessCheck, Rotation, TokenBook, TokenPair, TokenPolicy};
