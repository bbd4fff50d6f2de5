//! `GET /services/data` (versions, no auth) and `GET /services/data/vXX.X` (resources).

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::{ApiVersion, VERSIONS};
use crate::error::json_response;
use crate::state::AppState;

/// The release label of an API version (Winter '`YY` = 3·(YY−15)+32, then Spring, Summer).
pub(crate) fn release_label(version: &str) -> String {
    let major: i64 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let k = major - 32;
    let yy = 15 + k.div_euclid(3);
    let season = ["Winter", "Spring", "Summer"][k.rem_euclid(3) as usize];
    format!("{season} '{yy:02}")
}

/// `GET /services/data`: every served version, oldest first. Not counted, no auth.
pub(crate) async fn versions_list() -> Response {
    let list: Vec<Value> = VERSIONS
        .iter()
        .map(|v| json!({"label": release_label(v), "url": format!("/services/data/v{v}"), "version": v}))
        .collect();
    json_response(StatusCode::OK, Value::Array(list))
}

/// Routes under `/services/data/{version}`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new().route("/", get(resources))
}

async fn resources(State(state): State<AppState>, Extension(v): Extension<ApiVersion>) -> Response {
    let base = format!("/services/data/v{}", v.0);
    let identity = format!(
        "{}/id/{}/{}",
        state.instance_url(),
        state.shared.org_id,
        state.shared.user_id
    );
    json_response(
        StatusCode::OK,
        json!({
            "tooling": format!("{base}/tooling"),
            "metadata": format!("{base}/metadata"),
            "eclair": format!("{base}/eclair"),
            "folders": format!("{base}/folders"),
            "prechatForms": format!("{base}/prechatForms"),
            "jobs": format!("{base}/jobs"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "search": format!("{base}/search"),
            "identity": identity,
            "sobjects": format!("{base}/sobjects"),
            "composite": format!("{base}/composite"),
            "limits": format!("{base}/limits"),
            "analytics": format!("{base}/analytics"),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::release_label;

    #[test]
    fn labels_follow_the_release_formula() {
        assert_eq!(release_label("66.0"), "Spring '26");
        assert_eq!(release_label("62.0"), "Winter '25");
        assert_eq!(release_label("61.0"), "Summer '24");
        assert_eq!(release_label("31.0"), "Summer '14");
    }
}
