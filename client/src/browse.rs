//! Reading the chain, for auditors who read: `blocks` (a table of blocks) and `case timeline`
//! (every committed act of a case, in order). What these print is what the node says; `audit
//! chain` is what checks it.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use courtledger_crypto::PublicKey;
use courtledger_proof::describe::beijing_rfc3339;
use courtledger_types::Genesis;
use serde_json::{json, Value};

use crate::audit::{last_height, PAGE_BLOCKS};
use crate::get_ok;
use crate::http::agent;
use crate::output::Printer;
use crate::read_genesis;

/// The timeline page size asked for (the node's largest).
const TIMELINE_PAGE: u64 = 500;

/// `blocks`.
#[derive(Debug, Args)]
pub struct BlocksArgs {
    /// The first height (default: the last LIMIT blocks).
    #[arg(long, value_name = "H")]
    pub from: Option<u64>,
    /// How many blocks.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: u64,
    /// The genesis file, to name each proposer's court (without it, its key is shown).
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: Option<PathBuf>,
}

/// `case timeline`.
#[derive(Debug, Clone, Args)]
pub struct TimelineArgs {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = crate::args::digest)]
    pub case: courtledger_crypto::Digest,
}

/// Width of `text` in a terminal: CJK characters (court codes such as 京0105) take two columns.
fn width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn pad(text: &str, columns: usize) -> String {
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(
        ' ',
        columns.saturating_sub(width(text)),
    ));
    out
}

/// Rows as an aligned table, a header line first.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                line.push_str(cell);
            } else {
                line.push_str(&pad(cell, *w));
                line.push_str("  ");
            }
        }
        line
    };
    let _ = writeln!(
        out,
        "{}",
        line(header.iter().map(|h| (*h).to_owned()).collect())
    );
    for row in rows {
        let _ = writeln!(out, "{}", line(row.clone()));
    }
    out
}

fn prefix(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// The court whose validator holds `key`, from genesis.
fn court_of(genesis: Option<&Genesis>, key: &str) -> Option<String> {
    let key: PublicKey = key.parse().ok()?;
    genesis?
        .validators
        .iter()
        .find(|v| v.validator.public_key == key)
        .map(|v| v.court_code.to_string())
}

/// `courtledger blocks`.
pub fn blocks(args: &BlocksArgs, node: &str, printer: Printer) -> anyhow::Result<()> {
    let genesis = args.genesis.as_deref().map(read_genesis).transpose()?;
    let agent = agent();
    let limit = args.limit.max(1);
    let from = match args.from {
        Some(from) => from.max(1),
        None => last_height(&agent, node)?.saturating_sub(limit - 1).max(1),
    };
    let mut rows = Vec::new();
    let mut next = Some(from);
    while let Some(height) = next {
        let wanted = limit - u64::try_from(rows.len()).unwrap_or(u64::MAX);
        if wanted == 0 {
            break;
        }
        let page = get_ok(
            node,
            &format!("/v1/blocks?from={height}&limit={}", wanted.min(PAGE_BLOCKS)),
        )?;
        let blocks = page["blocks"]
            .as_array()
            .context("the node's page has no `blocks` array")?;
        for block in blocks
            .iter()
            .take(usize::try_from(wanted).unwrap_or(usize::MAX))
        {
            let time_ms = block["time_ms"].as_u64().unwrap_or(0);
            let proposer = block["proposer"].as_str().unwrap_or_default();
            let court = court_of(genesis.as_ref(), proposer);
            rows.push(json!({
                "height": block["height"],
                "time_ms": time_ms,
                "time_beijing": beijing_rfc3339(time_ms),
                "tx_count": block["tx_count"],
                "proposer": proposer,
                "proposer_court": court,
                "block_id": block["id"],
            }));
        }
        next = if blocks.is_empty() {
            None
        } else {
            page["next_from"].as_u64()
        };
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let proposer = row["proposer_court"].as_str().map_or_else(
                || prefix(row["proposer"].as_str().unwrap_or_default(), 16),
                str::to_owned,
            );
            vec![
                row["height"].to_string(),
                row["time_beijing"].as_str().unwrap_or_default().to_owned(),
                row["tx_count"].to_string(),
                proposer,
                prefix(row["block_id"].as_str().unwrap_or_default(), 16),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "height",
            "time (Beijing)",
            "txs",
            "proposer court",
            "block id",
        ],
        &cells,
    );
    if rows.is_empty() {
        text.push_str("(no blocks)\n");
    }
    printer.result(&json!({ "from": from, "blocks": rows }), &text)
}

/// `courtledger case timeline`: every page, until the end.
pub fn timeline(args: &TimelineArgs, node: &str, printer: Printer) -> anyhow::Result<()> {
    let case = args.case;
    let mut events: Vec<Value> = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let mut path = format!("/v1/cases/{case}/timeline?limit={TIMELINE_PAGE}");
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let page = get_ok(node, &path)?;
        let page_events = page["events"]
            .as_array()
            .context("the node's timeline has no `events` array")?;
        for event in page_events {
            let mut event = event.clone();
            let time_ms = event["time_ms"].as_u64().unwrap_or(0);
            event["time_beijing"] = json!(beijing_rfc3339(time_ms));
            events.push(event);
        }
        match page["next_after"].as_u64() {
            Some(next) if !page_events.is_empty() && Some(next) != after => after = Some(next),
            _ => break,
        }
    }
    let cells: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e["seq"].to_string(),
                e["time_beijing"].as_str().unwrap_or_default().to_owned(),
                e["kind"].as_str().unwrap_or_default().to_owned(),
                prefix(e["actor"].as_str().unwrap_or_default(), 16),
                e["tx_id"].as_str().unwrap_or_default().to_owned(),
            ]
        })
        .collect();
    let mut text = format!("case {case}: {} acts\n", events.len());
    text.push_str(&table(
        &["seq", "time (Beijing)", "act", "actor", "tx id"],
        &cells,
    ));
    printer.result(
        &json!({ "case": case.to_string(), "events": events }),
        &text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_court_codes() {
        let text = table(
            &["a", "court", "id"],
            &[
                vec!["1".into(), "京0105".into(), "x".into()],
                vec!["22".into(), "0000".into(), "y".into()],
            ],
        );
        assert_eq!(text, "a   court   id\n1   京0105  x\n22  0000    y\n");
    }
}
