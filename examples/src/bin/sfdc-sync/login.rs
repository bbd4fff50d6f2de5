//! `sfdc-sync login`: the OAuth 2.0 web-server flow with PKCE through a loopback redirect
//! (`http://localhost:PORT/callback`), writing a settings file with the refresh token.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::SecretString;
use sfdc_destination::rest::auth::{FileTokenStore, TokenStore};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::error::CliError;

/// Arguments of `login`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoginArgs {
    /// The External Client App's (or connected app's) consumer key.
    #[arg(long = "client-id")]
    pub(crate) client_id: String,
    /// The consumer secret, for apps that require it with PKCE.
    #[arg(long = "client-secret")]
    pub(crate) client_secret: Option<String>,
    /// Log in to a sandbox (`test.salesforce.com`).
    #[arg(long, conflicts_with = "login_host")]
    pub(crate) sandbox: bool,
    /// A My Domain login host, e.g. `acme.my.salesforce.com`.
    #[arg(long = "login-host")]
    pub(crate) login_host: Option<String>,
    /// Tests and the emulator: a plain-http loopback base URL (`http://127.0.0.1:PORT`) serving
    /// `/services/oauth2/authorize` and `/services/oauth2/token`.
    #[arg(long = "insecure-loopback-url", conflicts_with_all = ["sandbox", "login_host"])]
    pub(crate) insecure_loopback_url: Option<String>,
    /// The loopback port of the redirect URI (0: any free port). The app's callback URL must be
    /// `http://localhost:PORT/callback`.
    #[arg(long, default_value_t = 1717)]
    pub(crate) port: u16,
    /// Seconds to wait for the browser's redirect.
    #[arg(long, default_value_t = 300)]
    pub(crate) timeout: u64,
    /// The settings file to write (mode 0600).
    #[arg(long, default_value = "sfdc-sync.toml")]
    pub(crate) output: PathBuf,
    /// The token store file that receives the refresh token (mode 0600, rewritten by `send`
    /// on every rotation). Default: the settings file's path with `.refresh-token` appended.
    #[arg(long = "token-store")]
    pub(crate) token_store: Option<PathBuf>,
    /// Print `SFDC_*` environment variables instead of writing the file.
    #[arg(long = "print-env")]
    pub(crate) print_env: bool,
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// The login base URL and the settings lines that select the same host for `send`.
fn base_and_host_lines(args: &LoginArgs) -> Result<(String, String), CliError> {
    if let Some(url) = &args.insecure_loopback_url {
        let parsed =
            url::Url::parse(url).map_err(|e| usage(format!("--insecure-loopback-url: {e}")))?;
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if !loopback {
            return Err(usage(
                "--insecure-loopback-url must be a loopback address (127.0.0.1, localhost)",
            ));
        }
        let base = url.trim_end_matches('/').to_owned();
        let lines = format!(
            "token_url = \"{base}/services/oauth2/token\"\nallow_insecure_loopback = true\n"
        );
        return Ok((base, lines));
    }
    if let Some(host) = &args.login_host {
        let host = host.trim_start_matches("https://").trim_end_matches('/');
        return Ok((
            format!("https://{host}"),
            format!("login_host = \"{host}\"\n"),
        ));
    }
    if args.sandbox {
        return Ok((
            "https://test.salesforce.com".into(),
            "is_sandbox = true\n".into(),
        ));
    }
    Ok(("https://login.salesforce.com".into(), String::new()))
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Waits for `GET /callback?...` and returns its query pairs.
async fn receive_callback(listener: &TcpListener) -> Result<Vec<(String, String)>, CliError> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| usage(format!("loopback redirect: {e}")))?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("");
        let Some(query) = target.strip_prefix("/callback?") else {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        };
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let body = "sfdc-sync: login received, you can close this window.\n";
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        return Ok(pairs);
    }
}

fn write_private(path: &PathBuf, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    {
        options.open(path)?.write_all(text.as_bytes())
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Runs `login`.
pub(crate) async fn run(args: LoginArgs) -> Result<ExitCode, CliError> {
    let (base, host_lines) = base_and_host_lines(&args)?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| {
            usage(format!(
                "cannot listen on 127.0.0.1:{} ({e}); pick another --port",
                args.port
            ))
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| usage(format!("loopback: {e}")))?
        .port();
    let redirect_uri = format!("http://localhost:{port}/callback");
    let verifier = random_b64(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_b64(16);
    let mut authorize = url::Url::parse(&format!("{base}/services/oauth2/authorize"))
        .map_err(|e| usage(format!("login URL: {e}")))?;
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &args.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    println!(
        "Open this URL in a browser and log in (waiting {} s for the redirect to {redirect_uri}):",
        args.timeout
    );
    println!("{authorize}");

    let pairs = tokio::time::timeout(
        Duration::from_secs(args.timeout),
        receive_callback(&listener),
    )
    .await
    .map_err(|_| {
        usage(format!(
            "no redirect to {redirect_uri} within {} s; run login again",
            args.timeout
        ))
    })??;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(error) = get("error") {
        return Err(usage(format!(
            "authorization refused: {error} {}",
            get("error_description").unwrap_or_default()
        )));
    }
    if get("state").as_deref() != Some(state.as_str()) {
        return Err(usage(
            "the redirect's state does not match this login; run login again",
        ));
    }
    let code = get("code").ok_or_else(|| usage("the redirect carries no code"))?;

    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("client_id", args.client_id.clone()),
        ("redirect_uri", redirect_uri.clone()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &args.client_secret {
        form.push(("client_secret", secret.clone()));
    }
    let response = reqwest::Client::new()
        .post(format!("{base}/services/oauth2/token"))
        .form(&form)
        .send()
        .await
        .map_err(|e| usage(format!("token request failed: {}", e.without_url())))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        return Err(usage(format!(
            "token endpoint answered {status}: {} (check --client-id, --client-secret and the app's callback URL {redirect_uri})",
            body.get("error").and_then(|v| v.as_str()).unwrap_or("-")
        )));
    }
    let refresh = body
        .get("refresh_token")
        .and_then(|v| v.as_str())
        .ok_or_else(|| usage("no refresh token in the answer: add the `refresh_token, offline_access` scope to the app"))?;

    if args.print_env {
        println!("export SFDC_REFRESH_TOKEN={refresh}");
        if let Some(secret) = &args.client_secret {
            println!("export SFDC_CLIENT_SECRET={secret}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let store_path = args.token_store.clone().unwrap_or_else(|| {
        let mut name = args.output.clone().into_os_string();
        name.push(".refresh-token");
        PathBuf::from(name)
    });
    FileTokenStore::new(&store_path)
        .save(&SecretString::from(refresh.to_owned()))
        .map_err(|e| usage(e.to_string()))?;
    let mut text = format!(
        "# written by `sfdc-sync login`: keep this file private (mode 0600)\n{host_lines}\n[auth]\ntype = \"refresh_token\"\nclient_id = {}\n",
        toml_string(&args.client_id)
    );
    if let Some(secret) = &args.client_secret {
        text.push_str(&format!("client_secret = {}\n", toml_string(secret)));
    }
    text.push_str(&format!(
        "# the refresh token lives here (mode 0600); `send` rewrites it when Salesforce rotates it\ntoken_store = {}\n",
        toml_string(&settings_relative(&args.output, &store_path))
    ));
    text.push_str("\n# Add [[subscriptions]] here (see examples/sync-events.toml).\n");
    write_private(&args.output, &text)
        .map_err(|e| usage(format!("cannot write {}: {e}", args.output.display())))?;
    println!(
        "wrote {} and the token store {} (both mode 0600); use it with --settings",
        args.output.display(),
        store_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The token store path as the settings file should name it: relative to the settings file's
/// directory when it lies there (so the pair can move together), else as given.
fn settings_relative(settings: &Path, store: &Path) -> String {
    let dir = settings.parent().unwrap_or(Path::new(""));
    store
        .strip_prefix(dir)
        .ok()
        .filter(|p| !dir.as_os_str().is_empty() && p.components().count() > 0)
        .unwrap_or(store)
        .display()
        .to_string()
}
