//! Talking to a node's HTTP API: plain HTTP, JSON answers, non-2xx answers returned to the
//! caller (the node explains its refusals in the body).

use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use crate::output::NodeError;

/// The HTTP client of every command: plain HTTP, non-2xx answers returned, 30 s timeout.
pub fn agent() -> ureq::Agent {
    agent_with_timeout(Duration::from_secs(30))
}

/// Like [`agent`], with another overall timeout per request (for submissions that wait for
/// their commit).
pub fn agent_with_timeout(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// GET `url` with `agent`: the status and the JSON body.
pub fn get_json_with(agent: &ureq::Agent, url: &str) -> anyhow::Result<(u16, Value)> {
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body: Value = response
        .body_mut()
        .read_json()
        .context("the node's answer is not JSON")?;
    Ok((status, body))
}

/// POST `body` as JSON to `url` with `agent`: the status and the JSON body.
pub fn post_json_with(
    agent: &ureq::Agent,
    url: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let mut response = agent
        .post(url)
        .send_json(body)
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body: Value = response
        .body_mut()
        .read_json()
        .context("the node's answer is not JSON")?;
    Ok((status, body))
}

/// GET `{node}{path}`: the JSON body of a 200 answer; any other answer is a [`NodeError`].
pub fn get_ok(node: &str, path: &str) -> anyhow::Result<Value> {
    let (status, body) = get_json_with(&agent(), &format!("{node}{path}"))?;
    if status != 200 {
        return Err(NodeError {
            message: format!("the node answered {status}"),
            body,
        }
        .into());
    }
    Ok(body)
}
