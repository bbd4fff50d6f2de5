//! `sfdc-emulator`: runs the in-memory Salesforce org until killed.
//!
//! On start it prints one JSON line on stdout with `instance_url`, `access_token`,
//! `token_url`, `refresh_token`, `client_id`, `client_secret`, `username`, `password`
//! (and `cert_path` with `--tls --cert-out`). Logs go to stderr (`RUST_LOG`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sfdc_emulator::{Emulator, EmulatorConfig, FaultConfig, SchemaFile};

/// An in-memory Salesforce org on loopback, for tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "sfdc-emulator", version)]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Latency added to every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Server time per written record, in microseconds (serial within a request).
    #[arg(long, default_value_t = 0)]
    record_cost_us: u64,
    /// Keep Bulk result rows in input order (default: seeded shuffled order).
    #[arg(long)]
    bulk_results_in_input_order: bool,
    /// Serve HTTPS with a self-signed certificate for 127.0.0.1 and localhost.
    #[arg(long)]
    tls: bool,
    /// With --tls: write the certificate PEM here (for clients to trust).
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Share (0..1) of API calls answered 503 SERVER_UNAVAILABLE.
    #[arg(long, default_value_t = 0.0)]
    fault_503: f64,
    /// Share (0..1) of writes answered 400 UNABLE_TO_LOCK_ROW.
    #[arg(long, default_value_t = 0.0)]
    fault_lock_row: f64,
    /// Share (0..1) of writes whose connection is dropped after the commit.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_after_commit: f64,
    /// Expire the presented token on every N-th authenticated call.
    #[arg(long)]
    expire_token_every: Option<u64>,
    /// JSON schema file with custom objects and fields (see docs/sfdc-emulator.md).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Daily API request allocation.
    #[arg(long, default_value_t = 15_000)]
    daily_api_limit: u64,
    /// Access-token lifetime in seconds (default: never expire).
    #[arg(long)]
    token_ttl_secs: Option<u64>,
    /// Rotate refresh tokens on every refresh_token grant.
    #[arg(long)]
    rotate_refresh_tokens: bool,
    /// RSA public key PEM file to verify JWT bearer assertions with.
    #[arg(long)]
    jwt_public_key: Option<PathBuf>,
    /// Connected-app consumer key.
    #[arg(long)]
    client_id: Option<String>,
    /// Connected-app consumer secret.
    #[arg(long)]
    client_secret: Option<String>,
    /// Username for password and JWT grants.
    #[arg(long)]
    username: Option<String>,
    /// Password for the password grant.
    #[arg(long)]
    password: Option<String>,
    /// Bulk ingest processing delay in milliseconds.
    #[arg(long, default_value_t = 0)]
    bulk_processing_delay_ms: u64,
}

fn config(args: &Args) -> Result<EmulatorConfig, String> {
    let mut c = EmulatorConfig::default();
    c.addr = args.addr;
    c.latency = Duration::from_millis(args.latency_ms);
    c.record_cost = Duration::from_micros(args.record_cost_us);
    c.bulk_results_in_input_order = args.bulk_results_in_input_order;
    c.tls = args.tls;
    let mut faults = FaultConfig::default();
    faults.server_unavailable = args.fault_503;
    faults.unable_to_lock_row = args.fault_lock_row;
    faults.drop_after_commit = args.fault_drop_after_commit;
    faults.expire_token_every = args.expire_token_every;
    c.faults = faults;
    c.seed = args.seed;
    c.daily_api_limit = args.daily_api_limit;
    c.token_ttl = args.token_ttl_secs.map(Duration::from_secs);
    c.rotate_refresh_tokens = args.rotate_refresh_tokens;
    c.bulk_processing_delay = Duration::from_millis(args.bulk_processing_delay_ms);
    if let Some(v) = &args.client_id {
        c.client_id = v.clone();
    }
    if let Some(v) = &args.client_secret {
        c.client_secret = v.clone();
    }
    if let Some(v) = &args.username {
        c.username = v.clone();
    }
    if let Some(v) = &args.password {
        c.password = v.clone();
    }
    if let Some(path) = &args.schema {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --schema {}: {e}", path.display()))?;
        c.schema = Some(SchemaFile::from_json(&text).map_err(|e| e.to_string())?);
    }
    if let Some(path) = &args.jwt_public_key {
        c.jwt_public_key_pem = Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read --jwt-public-key {}: {e}", path.display()))?,
        );
    }
    Ok(c)
}

async fn run(args: Args) -> Result<(), String> {
    let cfg = config(&args)?;
    let emu = Emulator::start(cfg).await.map_err(|e| e.to_string())?;
    let mut cert_path = None;
    if let (Some(path), Some(pem)) = (&args.cert_out, emu.certificate_pem()) {
        std::fs::write(path, pem)
            .map_err(|e| format!("cannot write --cert-out {}: {e}", path.display()))?;
        cert_path = Some(path.display().to_string());
    }
    let c = emu.config();
    let line = serde_json::json!({
        "instance_url": emu.instance_url(),
        "access_token": emu.access_token(),
        "token_url": emu.token_url(),
        "refresh_token": emu.refresh_token(),
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "username": c.username,
        "password": c.password,
        "cert_path": cert_path,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    drop(out);
    tracing::info!(instance_url = %emu.instance_url(), "serving until killed");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sfdc-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sfdc-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
