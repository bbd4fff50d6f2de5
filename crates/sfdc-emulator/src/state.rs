//! Shared server state: the org behind a lock (never held across `.await`), tokens,
//! counters, query cursors and the fault RNG.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::config::EmulatorConfig;
use crate::ids;
use crate::store::Org;

/// API-call kinds, as keys of `Emulator::api_call_counts`.
pub(crate) const KINDS: [&str; 13] = [
    "versions",
    "describe",
    "sobject_create",
    "sobject_retrieve",
    "sobject_update",
    "sobject_delete",
    "sobject_upsert",
    "query",
    "query_more",
    "collections",
    "bulk_ingest",
    "limits",
    "composite",
];

/// Index of a kind in [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kind(pub(crate) usize);

impl Kind {
    pub(crate) const VERSIONS: Kind = Kind(0);
    pub(crate) const DESCRIBE: Kind = Kind(1);
    pub(crate) const CREATE: Kind = Kind(2);
    pub(crate) const RETRIEVE: Kind = Kind(3);
    pub(crate) const UPDATE: Kind = Kind(4);
    pub(crate) const DELETE: Kind = Kind(5);
    pub(crate) const UPSERT: Kind = Kind(6);
    pub(crate) const QUERY: Kind = Kind(7);
    pub(crate) const QUERY_MORE: Kind = Kind(8);
    pub(crate) const COLLECTIONS: Kind = Kind(9);
    pub(crate) const BULK: Kind = Kind(10);
    pub(crate) const LIMITS: Kind = Kind(11);
    pub(crate) const COMPOSITE: Kind = Kind(12);
    /// `/composite/batch`: not counted itself; each of its subrequests counts.
    pub(crate) const BATCH: Kind = Kind(usize::MAX - 1);
}

/// An authorization code issued by `/services/oauth2/authorize`, until redeemed.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    /// The `redirect_uri` of the authorize call (the token call must repeat it).
    pub(crate) redirect_uri: String,
    /// PKCE `code_challenge`, if given.
    pub(crate) challenge: Option<String>,
    /// PKCE `code_challenge_method` (`S256` or `plain`).
    pub(crate) method: String,
    /// When it was issued.
    pub(crate) issued: Instant,
}

/// A query result kept for `nextRecordsUrl` paging.
#[derive(Debug)]
pub(crate) struct Cursor {
    /// Rendered records (with `attributes`).
    pub(crate) records: Vec<Value>,
    /// Page size.
    pub(crate) batch_size: usize,
}

const MAX_CURSORS: usize = 1000;

/// Cursors by id, plus their insertion order for eviction.
type Cursors = (HashMap<String, Arc<Cursor>>, VecDeque<String>);

/// Everything shared by all requests except the org.
pub(crate) struct Shared {
    pub(crate) config: EmulatorConfig,
    pub(crate) instance_url: OnceLock<String>,
    pub(crate) org_id: String,
    pub(crate) user_id: String,
    /// Access token → expiry (`None` = never).
    tokens: RwLock<HashMap<String, Option<Instant>>>,
    /// The token `Emulator::access_token` hands out.
    primary_token: Mutex<String>,
    refresh_tokens: Mutex<Vec<String>>,
    /// Refresh tokens invalidated by rotation: presenting one again revokes the grant.
    spent_refresh_tokens: Mutex<Vec<String>>,
    /// How often a spent refresh token was presented (each revoked the grant).
    refresh_token_reuses: AtomicU64,
    /// Authorization codes not yet redeemed.
    codes: Mutex<HashMap<String, CodeGrant>>,
    api_calls: AtomicU64,
    per_kind: [AtomicU64; KINDS.len()],
    token_requests: AtomicU64,
    authed_calls: AtomicU64,
    /// API requests being answered now, and the most at once (see [`InFlight`]).
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    /// API requests past the transaction gate now (see [`AppState::enter_transaction`]),
    /// and the most at once.
    in_tx: AtomicU64,
    peak_in_tx: AtomicU64,
    cursors: Mutex<Cursors>,
    next_cursor: AtomicU64,
    rng: Mutex<StdRng>,
}

impl std::fmt::Debug for Shared {
    /// Shows no token: access and refresh tokens are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("instance_url", &self.instance_url.get())
            .field("api_calls", &self.api_calls.load(Ordering::Relaxed))
            .field(
                "token_requests",
                &self.token_requests.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

/// One API request being answered (or past the transaction gate): decrements its gauge
/// on drop.
#[derive(Debug)]
pub(crate) struct InFlight {
    shared: Arc<Shared>,
    transaction: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let gauge = if self.transaction {
            &self.shared.in_tx
        } else {
            &self.shared.in_flight
        };
        gauge.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Axum state: cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) org: Arc<RwLock<Org>>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) bulk: crate::routes::bulk::BulkState,
    /// Transaction gate: every API request and Bulk job holds a shared guard while it
    /// runs; an all-or-none Composite call holds it exclusively, so its undo log sees
    /// only its own subrequests' writes.
    pub(crate) tx_gate: Arc<tokio::sync::RwLock<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppState {
    /// Builds the state; the instance URL is set once the listener is bound.
    pub(crate) fn new(config: EmulatorConfig, org: Org) -> Self {
        let refresh = config.refresh_token.clone();
        let rng = StdRng::seed_from_u64(config.seed);
        let shared = Shared {
            org_id: ids::make_id("00D", 1 + config.seed % 1000),
            user_id: ids::make_id("005", 1 + config.seed % 1000),
            config,
            instance_url: OnceLock::new(),
            tokens: RwLock::new(HashMap::new()),
            primary_token: Mutex::new(String::new()),
            refresh_tokens: Mutex::new(vec![refresh]),
            spent_refresh_tokens: Mutex::new(Vec::new()),
            refresh_token_reuses: AtomicU64::new(0),
            codes: Mutex::new(HashMap::new()),
            api_calls: AtomicU64::new(0),
            per_kind: Default::default(),
            token_requests: AtomicU64::new(0),
            authed_calls: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            in_tx: AtomicU64::new(0),
            peak_in_tx: AtomicU64::new(0),
            cursors: Mutex::new((HashMap::new(), VecDeque::new())),
            next_cursor: AtomicU64::new(1),
            rng: Mutex::new(rng),
        };
        AppState {
            org: Arc::new(RwLock::new(org)),
            shared: Arc::new(shared),
            bulk: crate::routes::bulk::BulkState::default(),
            tx_gate: Arc::new(tokio::sync::RwLock::new(())),
        }
    }

    /// Read access to the org. Never hold the guard across `.await`.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Org> {
        self.org
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write access to the org. Never hold the guard across `.await`.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Org> {
        self.org
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// `http://127.0.0.1:PORT` (empty before the listener is bound, e.g. in oneshot tests).
    pub(crate) fn instance_url(&self) -> &str {
        self.shared
            .instance_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://localhost")
    }

    // ----- tokens -----

    /// `n` random token characters from the seeded RNG.
    fn random_text(&self, n: usize) -> String {
        let mut rng = lock(&self.shared.rng);
        (0..n)
            .map(|_| {
                const CH: &[u8] =
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
                CH[rng.random_range(0..CH.len())] as char
            })
            .collect()
    }

    /// Issues a new access token.
    pub(crate) fn issue_token(&self) -> String {
        let tail = self.random_text(56);
        let token = format!("{}!AQ{}", &self.shared.org_id[..15], tail);
        let expiry = self.shared.config.token_ttl.map(|ttl| Instant::now() + ttl);
        self.shared
            .tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token.clone(), expiry);
        token
    }

    /// Whether the access token is known and not expired.
    pub(crate) fn token_valid(&self, token: &str) -> bool {
        let tokens = self
            .shared
            .tokens
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match tokens.get(token) {
            Some(None) => true,
            Some(Some(exp)) => Instant::now() < *exp,
            None => false,
        }
    }

    /// Revokes an access token.
    pub(crate) fn revoke_token(&self, token: &str) {
        self.shared
            .tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(token);
    }

    /// A currently valid token for the library handle (re-issued when revoked or expired).
    pub(crate) fn primary_token(&self) -> String {
        let mut p = lock(&self.shared.primary_token);
        if p.is_empty() || !self.token_valid(&p) {
            *p = self.issue_token();
        }
        p.clone()
    }

    /// Whether the refresh token is currently valid.
    pub(crate) fn refresh_token_valid(&self, token: &str) -> bool {
        lock(&self.shared.refresh_tokens).iter().any(|t| t == token)
    }

    /// Replaces `old` with a new refresh token (rotation) and returns it.
    pub(crate) fn rotate_refresh_token(&self, old: &str) -> String {
        let new = format!("5Aep{}", &self.issue_token()[18..]);
        let mut list = lock(&self.shared.refresh_tokens);
        list.retain(|t| t != old);
        list.push(new.clone());
        lock(&self.shared.spent_refresh_tokens).push(old.to_owned());
        new
    }

    /// Whether `token` was invalidated by rotation.
    pub(crate) fn refresh_token_spent(&self, token: &str) -> bool {
        lock(&self.shared.spent_refresh_tokens)
            .iter()
            .any(|t| t == token)
    }

    /// Reuse of a spent refresh token: revokes every refresh token of the grant and every
    /// access token (the client must authorise again), and counts the reuse.
    pub(crate) fn revoke_refresh_grant(&self) {
        self.shared
            .refresh_token_reuses
            .fetch_add(1, Ordering::Relaxed);
        let mut list = lock(&self.shared.refresh_tokens);
        lock(&self.shared.spent_refresh_tokens).append(&mut list);
        self.shared
            .tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// How often a spent refresh token was presented.
    pub(crate) fn refresh_token_reuses(&self) -> u64 {
        self.shared.refresh_token_reuses.load(Ordering::Relaxed)
    }

    /// Stores an authorization code grant and returns the code.
    pub(crate) fn issue_code(&self, grant: CodeGrant) -> String {
        let code = format!("aPr{}", self.random_text(60));
        lock(&self.shared.codes).insert(code.clone(), grant);
        code
    }

    /// Removes and returns a code's grant: a code is redeemable once.
    pub(crate) fn take_code(&self, code: &str) -> Option<CodeGrant> {
        lock(&self.shared.codes).remove(code)
    }

    /// The newest valid refresh token.
    pub(crate) fn current_refresh_token(&self) -> String {
        lock(&self.shared.refresh_tokens)
            .last()
            .cloned()
            .unwrap_or_default()
    }

    // ----- counters -----

    /// Counts one token-endpoint request.
    pub(crate) fn count_token_request(&self) {
        self.shared.token_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Token-endpoint requests so far.
    pub(crate) fn token_requests(&self) -> u64 {
        self.shared.token_requests.load(Ordering::Relaxed)
    }

    /// Counts an authenticated call for forced token expiry; returns the running count.
    pub(crate) fn next_authed_call(&self) -> u64 {
        self.shared.authed_calls.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts one API call of `kind` if the allocation allows; returns the usage after
    /// counting, or `Err(used)` when the allocation is exhausted.
    pub(crate) fn count_call(&self, kind: Kind) -> Result<u64, u64> {
        let max = self.shared.config.daily_api_limit;
        let r = self
            .shared
            .api_calls
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                (u < max).then_some(u + 1)
            });
        match r {
            Ok(prev) => {
                if let Some(c) = self.shared.per_kind.get(kind.0) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                Ok(prev + 1)
            }
            Err(used) => Err(used),
        }
    }

    /// Marks one API request as being answered until the guard drops (also when the
    /// request is cancelled), raising the peak gauge when needed.
    pub(crate) fn enter_request(&self) -> InFlight {
        let now = self.shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight {
            shared: Arc::clone(&self.shared),
            transaction: false,
        }
    }

    /// Marks one top-level API request as past the transaction gate (reading and writing the
    /// org, a Composite call's subrequests included) until the guard drops.
    pub(crate) fn enter_transaction(&self) -> InFlight {
        let now = self.shared.in_tx.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.peak_in_tx.fetch_max(now, Ordering::SeqCst);
        InFlight {
            shared: Arc::clone(&self.shared),
            transaction: true,
        }
    }

    /// The most top-level API requests past the transaction gate at the same time.
    pub(crate) fn peak_concurrent_transactions(&self) -> u64 {
        self.shared.peak_in_tx.load(Ordering::SeqCst)
    }

    /// The most API requests answered at the same time since start or the last reset.
    pub(crate) fn peak_concurrent_requests(&self) -> u64 {
        self.shared.peak_in_flight.load(Ordering::SeqCst)
    }

    /// Restarts the peak gauge from the requests being answered now.
    pub(crate) fn reset_peak_concurrent_requests(&self) {
        let now = self.shared.in_flight.load(Ordering::SeqCst);
        self.shared.peak_in_flight.store(now, Ordering::SeqCst);
        let now = self.shared.in_tx.load(Ordering::SeqCst);
        self.shared.peak_in_tx.store(now, Ordering::SeqCst);
    }

    /// Total API calls counted.
    pub(crate) fn api_calls(&self) -> u64 {
        self.shared.api_calls.load(Ordering::Relaxed)
    }

    /// Calls per kind (every kind present, zero included).
    pub(crate) fn api_call_counts(&self) -> BTreeMap<String, u64> {
        KINDS
            .iter()
            .zip(self.shared.per_kind.iter())
            .map(|(k, c)| ((*k).to_owned(), c.load(Ordering::Relaxed)))
            .collect()
    }

    // ----- faults -----

    /// Draws a uniform number in `0.0..1.0` from the seeded RNG.
    pub(crate) fn draw(&self) -> f64 {
        lock(&self.shared.rng).random::<f64>()
    }

    // ----- cursors -----

    /// Stores a cursor and returns its id (`01g...`).
    pub(crate) fn put_cursor(&self, cursor: Cursor) -> String {
        let n = self.shared.next_cursor.fetch_add(1, Ordering::Relaxed);
        // Locators are 18-character ids, as a current org's `nextRecordsUrl` shows.
        let id = ids::make_id("01g", n);
        let mut c = lock(&self.shared.cursors);
        let (map, order) = &mut *c;
        map.insert(id.clone(), Arc::new(cursor));
        order.push_back(id.clone());
        while order.len() > MAX_CURSORS {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        id
    }

    /// Looks a cursor up.
    pub(crate) fn cursor(&self, id: &str) -> Option<Arc<Cursor>> {
        lock(&self.shared.cursors).0.get(id).cloned()
    }
}

impl AppState {
    /// Revokes every access token.
    pub(crate) fn revoke_all_tokens(&self) {
        self.shared
            .tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
