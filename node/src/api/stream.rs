//! `GET /v1/events`: server-sent events of committed transactions, optionally only those whose
//! act concerns given subjects (case or identity ids).
//!
//! Each event is `event: tx`, `id: <height>:<index>`, and the JSON of
//! [`crate::events::TxEvent::to_json`]. A stream that falls behind the hub gets one
//! `event: lagged` with `{"missed": n}`: events were lost to it, and the client must resync
//! from storage (`GET /v1/blocks?from=`, after the last id it received). A comment line every
//! [`EVENT_KEEP_ALIVE`] keeps an idle stream open. At most [`MAX_EVENT_STREAMS`] streams are
//! open at once.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use courtledger_crypto::Digest;
use futures::stream;
use serde_json::json;

use super::error::{ApiError, ApiQuery};
use super::txs::parse_digest;
use super::{ApiState, EVENT_KEEP_ALIVE, MAX_EVENT_STREAMS, MAX_EVENT_SUBJECTS};
use crate::events::{CommitEvent, Received, TxEvent};

/// `GET /v1/events?subject=<64 hex>` (repeatable): the committed transactions that concern
/// any of the subjects; without `subject`, every committed transaction.
pub(super) async fn events(
    State(state): State<ApiState>,
    query: ApiQuery,
) -> Result<Response, ApiError> {
    query.only(&["subject"])?;
    let subjects = query
        .all("subject")
        .map(|text| parse_digest(text, "subject", "a subject id"))
        .collect::<Result<Vec<_>, _>>()?;
    event_stream(&state, subjects)
}

/// An event stream of the committed transactions whose act concerns any of `subjects` (every
/// committed transaction when `subjects` is empty). The building block of every event route:
/// 400 `too_many_subjects` over [`MAX_EVENT_SUBJECTS`], 503 `too_many_streams` over
/// [`MAX_EVENT_STREAMS`] open streams.
pub fn event_stream(state: &ApiState, mut subjects: Vec<Digest>) -> Result<Response, ApiError> {
    subjects.sort_unstable();
    subjects.dedup();
    if subjects.len() > MAX_EVENT_SUBJECTS {
        return Err(ApiError::bad_request(
            "too_many_subjects",
            format!("at most {MAX_EVENT_SUBJECTS} subjects per stream"),
        )
        .with_field("subject"));
    }
    // Held by the stream: the slot frees when the client goes away.
    let permit = state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            format!("{MAX_EVENT_STREAMS} event streams are open; retry later"),
        )
    })?;
    let subscription = state.events.subscribe();
    let events = stream::unfold(
        (subscription, subjects, permit),
        |(mut subscription, subjects, permit)| async move {
            loop {
                let event = match subscription.recv().await {
                    Received::Event(CommitEvent::Tx(tx)) if tx.concerns_any(&subjects) => {
                        tx_event(&tx)
                    }
                    Received::Event(_) => continue,
                    Received::Lagged { missed } => Event::default()
                        .event("lagged")
                        .data(json!({ "missed": missed }).to_string()),
                    Received::Closed => return None,
                };
                return Some((Ok::<_, Infallible>(event), (subscription, subjects, permit)));
            }
        },
    );
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(EVENT_KEEP_ALIVE))
        .into_response())
}

fn tx_event(tx: &TxEvent) -> Event {
    Event::default()
        .event("tx")
        .id(format!("{}:{}", tx.height, tx.index))
        .data(tx.to_json().to_string())
}
