//! What the client prints: one JSON document on stdout with `--json`, human text otherwise;
//! errors as `{"error": {"message": ...}}` on stdout with `--json`, on stderr otherwise.

use std::fmt::Write as _;

use serde_json::{json, Value};

/// Where a command's results go.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// Machine-readable output.
    pub json: bool,
}

impl Printer {
    /// Prints a command's result: `value` with `--json`, `text` otherwise.
    pub fn result(&self, value: &Value, text: &str) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            println!("{}", text.trim_end());
        }
        Ok(())
    }

    /// Prints `value` with `--json`, and a human rendering of it otherwise.
    pub fn value(&self, value: &Value) -> anyhow::Result<()> {
        self.result(value, &human(value))
    }

    /// A line of progress for people (stdout); nothing with `--json`, which prints one document.
    pub fn note(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    /// Prints `error` the way this printer prints.
    pub fn error(&self, error: &anyhow::Error) {
        if self.json {
            println!("{}", error_json(error));
        } else {
            eprintln!("error: {error:#}");
        }
    }
}

/// A node answered, but not with success; its answer travels with the error.
#[derive(Debug, thiserror::Error)]
#[error("{message}: {body}")]
pub struct NodeError {
    /// What went wrong.
    pub message: String,
    /// The node's answer.
    pub body: Value,
}

/// A submitted act that did not succeed: the node refused it, it failed on the ledger (its
/// receipt code is not 0), or it was not committed in time. People see `message`; `--json`
/// adds `details` (the transaction id, and the receipt or the node's refusal).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ActError {
    /// What happened, for people.
    pub message: String,
    /// The same, for machines.
    pub details: Value,
}

/// `{"error": {"message": ...}}`, with the node's answer (or an act's receipt) as `details`
/// when there is one.
pub fn error_json(error: &anyhow::Error) -> Value {
    let mut object = json!({ "message": format!("{error:#}") });
    if let Some(node) = error.downcast_ref::<NodeError>() {
        object["details"] = node.body.clone();
    }
    if let Some(act) = error.downcast_ref::<ActError>() {
        object["details"] = act.details.clone();
    }
    json!({ "error": object })
}

/// A JSON value as indented `key: value` lines.
pub fn human(value: &Value) -> String {
    let mut out = String::new();
    render(&mut out, value, 0);
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("-".to_owned()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.is_empty() => Some("(none)".to_owned()),
        Value::Object(fields) if fields.is_empty() => Some("(none)".to_owned()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn render(out: &mut String, value: &Value, depth: usize) {
    let indent = "  ".repeat(depth);
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let label = key.replace('_', " ");
                match scalar(field) {
                    Some(text) => {
                        let _ = writeln!(out, "{indent}{label}: {text}");
                    }
                    None => {
                        let _ = writeln!(out, "{indent}{label}:");
                        render(out, field, depth + 1);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match scalar(item) {
                    Some(text) => {
                        let _ = writeln!(out, "{indent}- {text}");
                    }
                    None => {
                        let _ = writeln!(out, "{indent}-");
                        render(out, item, depth + 1);
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{indent}{}", scalar(other).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_rendering() {
        // Keys in sorted order, so the test holds with or without serde_json's preserve_order.
        let value = json!({
            "height": 7,
            "latency_ms": { "p50": 1.5 },
            "rejected": {},
            "syncing": false,
            "tx_ids": ["aa", "bb"],
        });
        assert_eq!(
            human(&value),
            "height: 7\nlatency ms:\n  p50: 1.5\nrejected: (none)\nsyncing: no\ntx ids:\n  - aa\n  - bb\n"
        );
    }

    #[test]
    fn error_documents() {
        let error = anyhow::anyhow!("boom").context("cannot load the key k.json");
        assert_eq!(
            error_json(&error),
            json!({ "error": { "message": "cannot load the key k.json: boom" } })
        );
        let error = anyhow::Error::new(NodeError {
            message: "the node answered 404".to_owned(),
            body: json!({ "status": "unknown" }),
        });
        assert_eq!(
            error_json(&error),
            json!({ "error": {
                "message": "the node answered 404: {\"status\":\"unknown\"}",
                "details": { "status": "unknown" },
            } })
        );
    }
}
