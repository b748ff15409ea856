//! Plain JSON over HTTP to the nodes' APIs (ureq, blocking), with a timeout on every request.

use std::time::Duration;

use serde_json::Value;

/// A blocking HTTP client whose requests all give up after `timeout`, and which returns error
/// statuses as answers instead of errors.
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
}

impl Http {
    /// A client with this overall timeout per request.
    pub fn new(timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self { agent }
    }

    /// `GET url`: the status and the JSON body (`Null` when the body is not JSON).
    pub fn get(&self, url: &str) -> Result<(u16, Value), String> {
        let mut response = self.agent.get(url).call().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_json().unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// `GET url`: the body as text, if the status is 200.
    pub fn get_text(&self, url: &str) -> Option<String> {
        let mut response = self.agent.get(url).call().ok()?;
        if response.status().as_u16() != 200 {
            return None;
        }
        response.body_mut().read_to_string().ok()
    }

    /// `GET url`, the body only if the status is 200.
    pub fn get_ok(&self, url: &str) -> Option<Value> {
        match self.get(url) {
            Ok((200, body)) => Some(body),
            _ => None,
        }
    }

    /// `POST url` with a JSON body: the status and the JSON answer.
    pub fn post(&self, url: &str, body: &Value) -> Result<(u16, Value), String> {
        let mut response = self
            .agent
            .post(url)
            .send_json(body)
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_json().unwrap_or(Value::Null);
        Ok((status, body))
    }
}
