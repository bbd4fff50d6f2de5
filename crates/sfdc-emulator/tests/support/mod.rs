//! Shared helpers for the wire tests: start an emulator, call it with plain reqwest.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use reqwest::header::HeaderMap;
use serde_json::Value;
use sfdc_emulator::{Emulator, EmulatorConfig};

/// The API version the tests use.
pub const V: &str = "62.0";

/// A running emulator and a keep-alive client.
pub struct Ctx {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub token: String,
}

/// A response: status, headers and the body parsed as JSON (Null when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    /// The `errorCode` of the first element of an error array.
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error array: {}", self.text))
    }

    /// The `message` of the first element of an error array.
    pub fn message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or_default()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn start() -> Ctx {
    start_with(EmulatorConfig::default()).await
}

pub async fn start_with(config: EmulatorConfig) -> Ctx {
    let emu = Emulator::start(config).await.unwrap();
    let token = emu.access_token();
    Ctx {
        emu,
        http: reqwest::Client::new(),
        token,
    }
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Resp {
        status,
        headers,
        text,
        body,
    }
}

impl Ctx {
    /// `path` relative to `/services/data/v62.0/` unless it starts with `/`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.emu.instance_url())
        } else {
            format!("{}/services/data/v{V}/{path}", self.emu.instance_url())
        }
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        into_resp(rb.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.req(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.req(reqwest::Method::PATCH, path).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.req(reqwest::Method::DELETE, path)).await
    }

    /// Creates a record over REST and returns its id.
    pub async fn create(&self, object: &str, body: &Value) -> String {
        let r = self.post(&format!("sobjects/{object}"), body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Counted calls of one kind.
    pub fn calls(&self, kind: &str) -> u64 {
        self.emu.api_call_counts()[kind]
    }
}

/// The 18-character case-safe form of a 15-character id (independent test implementation).
pub fn case_safe(id15: &str) -> String {
    let table: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345".chars().collect();
    let mut out = id15.to_owned();
    for chunk in id15.as_bytes().chunks(5) {
        let mut n = 0;
        for (i, b) in chunk.iter().enumerate() {
            if b.is_ascii_uppercase() {
                n += 1 << i;
            }
        }
        out.push(table[n]);
    }
    out
}

/// Asserts the Salesforce JSON content type.
pub fn assert_json(r: &Resp) {
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=UTF-8"),
        "{r:?}"
    );
}
