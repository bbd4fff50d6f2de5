//! The library handle: start, inspect, seed, stop on drop.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use serde_json::{Map, Value};

use crate::config::EmulatorConfig;
use crate::conn::KillAcceptor;
use crate::error::EmulatorError;
use crate::schema::{FieldDef, ObjectDef};
use crate::state::AppState;
use crate::store::{BulkJobSnapshot, LeadConversion, Org};

/// A running emulator on loopback. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    state: AppState,
    addr: SocketAddr,
    cert_pem: Option<String>,
    handle: axum_server::Handle<SocketAddr>,
}

/// Builds the org from the configuration (standard objects + schema file).
fn build_org(config: &EmulatorConfig) -> Result<Org, EmulatorError> {
    let mut org = Org::new();
    if let Some(schema) = &config.schema {
        for def in schema.objects.iter().cloned() {
            org.add_object(def)?;
        }
    }
    Ok(org)
}

/// The router over a fresh state for `config`, for handler tests with `oneshot`
/// (no listener: the instance URL is `http://localhost`, and the connection-drop fault
/// is inert). Returns the router and a valid access token.
///
/// # Errors
/// [`EmulatorError::Schema`] when the configured schema is invalid.
pub fn router(config: EmulatorConfig) -> Result<(Router, String), EmulatorError> {
    let org = build_org(&config)?;
    let state = AppState::new(config, org);
    let token = state.primary_token();
    Ok((crate::app::router(state), token))
}

impl Emulator {
    /// Starts the emulator on `config.addr` (default `127.0.0.1:0`) in the current Tokio
    /// runtime and returns once it accepts connections.
    ///
    /// # Errors
    /// [`EmulatorError::Io`] when the address cannot be bound, [`EmulatorError::Tls`]
    /// when the certificate cannot be made, [`EmulatorError::Schema`] for a bad schema.
    #[tracing::instrument(skip_all, fields(tls = config.tls))]
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let org = build_org(&config)?;
        let tls = config.tls;
        let listener = std::net::TcpListener::bind(config.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = AppState::new(config, org);
        let scheme = if tls { "https" } else { "http" };
        let _ = state.shared.instance_url.set(format!("{scheme}://{addr}"));
        let app = crate::app::router(state.clone());
        let handle = axum_server::Handle::new();
        let mut cert_pem = None;
        if tls {
            let ss = crate::tls::self_signed()?;
            cert_pem = Some(ss.cert_pem);
            let server = axum_server::from_tcp(listener)?
                .acceptor(
                    axum_server::tls_rustls::RustlsAcceptor::new(ss.config).acceptor(KillAcceptor),
                )
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(app.into_make_service()).await {
                    tracing::error!(error = %e, "emulator server stopped");
                }
            });
        } else {
            let server = axum_server::from_tcp(listener)?
                .acceptor(KillAcceptor)
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(app.into_make_service()).await {
                    tracing::error!(error = %e, "emulator server stopped");
                }
            });
        }
        tracing::debug!(%addr, "emulator listening");
        Ok(Emulator {
            state,
            addr,
            cert_pem,
            handle,
        })
    }

    /// The instance URL, `http://127.0.0.1:PORT` (or `https://`), without a trailing slash.
    pub fn instance_url(&self) -> String {
        self.state.instance_url().to_owned()
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A currently valid bearer token (a new one is issued if the last one was revoked
    /// or expired).
    pub fn access_token(&self) -> String {
        self.state.primary_token()
    }

    /// The OAuth token URL, `{instance_url}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.state.instance_url())
    }

    /// A refresh token valid for `grant_type=refresh_token` with the configured client id
    /// and secret (the newest one when rotation is on).
    pub fn refresh_token(&self) -> String {
        self.state.current_refresh_token()
    }

    /// The configuration the emulator runs with.
    pub fn config(&self) -> &EmulatorConfig {
        self.state.config()
    }

    /// The PEM of the self-signed certificate when TLS is on.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// Creates a record directly (seeding): same validation as the REST create, not
    /// counted as an API call. Returns the 18-character id.
    ///
    /// # Errors
    /// [`EmulatorError::UnknownObject`], or [`EmulatorError::Rejected`] with the
    /// Salesforce error code when validation fails.
    pub fn insert_record(&self, object: &str, fields: Value) -> Result<String, EmulatorError> {
        let map = match fields {
            Value::Object(m) => m,
            _ => {
                return Err(EmulatorError::Rejected {
                    code: "JSON_PARSER_ERROR".into(),
                    message: "fields must be a JSON object".into(),
                });
            }
        };
        let mut org = self.state.write();
        if org.object(object).is_none() {
            return Err(EmulatorError::UnknownObject(object.to_owned()));
        }
        Ok(org.create(object, &map)?)
    }

    /// Live (not deleted) records of an object, each with every field (`Id` included).
    /// Unknown objects give an empty list.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        let org = self.state.read();
        let Some(o) = org.object(object) else {
            return Vec::new();
        };
        org.live_records(object)
            .map(|r| crate::store::full_record(o, r))
            .collect()
    }

    /// One record by 15- or 18-character id, deleted ones included (`IsDeleted` true).
    pub fn record(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        let org = self.state.read();
        let (o, rec) = org.find(id)?;
        o.name
            .eq_ignore_ascii_case(object)
            .then(|| crate::store::full_record(o, rec))
    }

    /// Converts a Lead as Salesforce's lead conversion does (not an API call): creates an
    /// Account named after its company and a Contact with its person fields, and marks the
    /// Lead `IsConverted` with `ConvertedAccountId`, `ConvertedContactId` and `ConvertedDate`.
    /// Later updates of the Lead fail with `CANNOT_UPDATE_CONVERTED_LEAD`.
    ///
    /// # Errors
    /// [`EmulatorError::Rejected`] when the id is not a live, unconverted Lead.
    pub fn convert_lead(&self, lead_id: &str) -> Result<LeadConversion, EmulatorError> {
        Ok(self.state.write().convert_lead(lead_id)?)
    }

    /// Total counted API calls.
    pub fn api_calls(&self) -> u64 {
        self.state.api_calls()
    }

    /// Counted API calls per endpoint kind: `versions`, `describe`, `sobject_create`,
    /// `sobject_retrieve`, `sobject_update`, `sobject_delete`, `sobject_upsert`, `query`,
    /// `query_more`, `collections`, `bulk_ingest`, `limits` (all present, zero included).
    pub fn api_call_counts(&self) -> BTreeMap<String, u64> {
        self.state.api_call_counts()
    }

    /// The most API requests (`/services/data/...`, Composite subrequests not counted apart)
    /// answered at the same time since start or the last
    /// [`Emulator::reset_peak_concurrent_requests`]: a gauge raised on entry and lowered on
    /// exit, latency and per-record sleeps included. A count, never a time.
    pub fn peak_concurrent_requests(&self) -> u64 {
        self.state.peak_concurrent_requests()
    }

    /// The most API requests inside the org's transaction gate at the same time since start
    /// or the last [`Emulator::reset_peak_concurrent_requests`]: requests that read or write
    /// records (a Composite call with its subrequests, per-record sleeps included, counts
    /// once). Calls that run concurrently on a real org (separate requests, Composite calls
    /// without `allOrNone`) raise it together; an all-or-none Composite call holds the gate
    /// alone. A count, never a time.
    pub fn peak_concurrent_transactions(&self) -> u64 {
        self.state.peak_concurrent_transactions()
    }

    /// Restarts [`Emulator::peak_concurrent_requests`] and
    /// [`Emulator::peak_concurrent_transactions`] from the requests in flight now.
    pub fn reset_peak_concurrent_requests(&self) {
        self.state.reset_peak_concurrent_requests();
    }

    /// Requests to the OAuth token endpoint (not API calls).
    pub fn token_requests(&self) -> u64 {
        self.state.token_requests()
    }

    /// How often a refresh token invalidated by rotation was presented again; each time the
    /// emulator revoked the grant (every refresh and access token), as Salesforce does.
    pub fn refresh_token_reuses(&self) -> u64 {
        self.state.refresh_token_reuses()
    }

    /// Bulk ingest jobs, oldest first.
    pub fn bulk_jobs(&self) -> Vec<BulkJobSnapshot> {
        self.state.bulk.snapshots()
    }

    /// Adds a custom object (or extends an existing object with the definition's fields).
    ///
    /// # Errors
    /// [`EmulatorError::Schema`] when the definition is invalid.
    pub fn add_object(&self, def: ObjectDef) -> Result<(), EmulatorError> {
        self.state.write().add_object(def)
    }

    /// Adds a custom field to an object.
    ///
    /// # Errors
    /// [`EmulatorError::UnknownObject`] or [`EmulatorError::Schema`].
    pub fn add_field(&self, object: &str, field: FieldDef) -> Result<(), EmulatorError> {
        self.state.write().add_field(object, field)
    }

    /// Revokes every issued access token (clients must refresh).
    pub fn expire_tokens(&self) {
        self.state.revoke_all_tokens();
    }

    /// Stops the server now (also done on drop).
    pub fn shutdown(&self) {
        self.handle.shutdown();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}
