//! The API's answer to arbitrary input (issue 8, "the API's JSON bodies"): property tests that
//! send random bodies to `POST /v1/txs` (arbitrary bytes, and JSON of the right shape with
//! arbitrary contents) and random path segments and query strings to the read routes, through
//! the real router over a stand-in driver. Every answer must be a typed one: never a panic,
//! never a 5xx, and every error in the one error shape. The node is a binary crate, so this runs
//! as proptest here instead of a cargo-fuzz target in `fuzz/`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::{post_raw, Harness};

/// Percent-encodes every byte: any bytes become a valid path segment or query.
fn encoded(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// Read routes (no event streams, which never end), `{}` standing for a random segment.
const READ_ROUTES: &[&str] = &[
    "/v1/txs/{}",
    "/v1/accounts/{}",
    "/v1/blocks/{}",
    "/v1/blocks?{}",
    "/v1/identities/{}",
    "/v1/keys/{}",
    "/v1/courts/{}",
    "/v1/courts/{}/cases",
    "/v1/cases/{}",
    "/v1/cases/{}/timeline",
    "/v1/evidence/{}",
    "/v1/judgments/{}",
    "/v1/proofs/tx/{}",
    "/v1/proofs/consistency?{}",
    "/v1/filings/overdue?{}",
    "/v1/equivocations?{}",
];

fn check_answer(what: &str, status: StatusCode, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(!status.is_server_error(), "{what}: {status} {body}");
    if !status.is_success() {
        prop_assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{what}: an error without the error shape: {status} {body}"
        );
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A submission's `txs` entry: hex of arbitrary bytes, or any text.
fn tx_entry() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| json!(hex::encode(b))),
        ".{0,40}".prop_map(|s| json!(s)),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_submission_bytes_get_typed_answers(
        body in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let api = Harness::new();
        let (status, value) = runtime().block_on(api.call(post_raw("/v1/txs", "application/json", body)));
        check_answer("bytes", status, &value)?;
    }

    #[test]
    fn submissions_of_the_right_shape_with_arbitrary_contents_get_typed_answers(
        txs in prop::collection::vec(tx_entry(), 0..6),
        wait in any::<bool>(),
        timeout_ms in prop::option::of(0u64..20),
        extra in prop::option::of(".{1,8}"),
    ) {
        let mut body = json!({ "txs": txs, "wait": wait });
        // A wait without a short timeout would wait for the default: keep the test quick.
        body["timeout_ms"] = json!(timeout_ms.unwrap_or(5));
        if let Some(field) = extra {
            body[field] = json!(1);
        }
        let api = Harness::new();
        let (status, value) = runtime().block_on(api.post("/v1/txs", body.clone()));
        check_answer(&body.to_string(), status, &value)?;
    }

    #[test]
    fn read_routes_with_arbitrary_segments_get_typed_answers(
        route in prop::sample::select(READ_ROUTES),
        segment in prop::collection::vec(any::<u8>(), 0..80),
        plain in "[a-zA-Z0-9=&_.-]{0,40}",
        raw in any::<bool>(),
    ) {
        let fill = if raw { plain } else { encoded(&segment) };
        let path = route.replace("{}", &fill);
        let api = Harness::new();
        let request = Request::get(path.as_str()).body(Body::empty()).expect("a valid URI");
        let (status, value) = runtime().block_on(api.call(request));
        check_answer(&path, status, &value)?;
    }
}
