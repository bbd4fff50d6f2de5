//! Handler tests without a socket: `sfdc_emulator::router` driven with `oneshot`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use sfdc_emulator::EmulatorConfig;
use tower::ServiceExt;

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn router_serves_create_and_method_override_without_a_socket() {
    let (router, token) = sfdc_emulator::router(EmulatorConfig::default()).unwrap();
    let create = Request::post("/services/data/v62.0/sobjects/Account/")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"Name":"A"}).to_string()))
        .unwrap();
    let (status, body) = call(&router, create).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["id"].as_str().unwrap().to_owned();

    let patch = Request::post(format!(
        "/services/data/v62.0/sobjects/Account/{id}?_HttpMethod=PATCH"
    ))
    .header("authorization", format!("Bearer {token}"))
    .body(Body::from(json!({"Name":"B"}).to_string()))
    .unwrap();
    let (status, _) = call(&router, patch).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let get = Request::get(format!(
        "/services/data/v62.0/sobjects/Account/{id}?fields=Name"
    ))
    .header("authorization", format!("OAuth {token}"))
    .body(Body::empty())
    .unwrap();
    let (status, body) = call(&router, get).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Name"], "B");

    let unauth = Request::get("/services/data/v62.0/sobjects")
        .body(Body::empty())
        .unwrap();
    let (status, body) = call(&router, unauth).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body[0]["errorCode"], "INVALID_AUTH_HEADER");

    let unknown = Request::get("/nowhere").body(Body::empty()).unwrap();
    let (status, body) = call(&router, unknown).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body[0]["errorCode"], "NOT_FOUND");
}
