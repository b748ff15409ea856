//! What became of each storage and clock fault, and of every node that exited by itself.
//!
//! The [`Tracker`] carries out the starts and heals of disk-full, torn-write and clock-skew
//! faults for the schedule's executor, and is polled (every 200 ms during the fault phase, and
//! after it) for node processes that exited by themselves. Each exit is attributed:
//!
//! - during a disk-full fault (or within the recovery grace after its heal): expected, if it is
//!   a non-zero exit with a storage error in the node's log ("a failed storage write stops the
//!   node"); a panic, a signal, status 0 or no storage error is a finding. The node stays down
//!   until the heal (and is restarted at once if it stops after the heal); if it exits again
//!   after that restart, it did not start on its own data: a finding.
//! - after the restart that heals a torn write: the node refused its damaged data (a finding to
//!   report; the node is left down rather than repaired, so liveness fails too).
//! - otherwise: a node died on its own: a finding. It is left down until the final heal.
//!
//! Every fault of these kinds gets a note in the summary: what was done, how the node ended
//! or that it kept running, and later how long it took to get back to the head.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::clock;
use crate::cluster::{Cluster, Exit, EXITED, RUNNING};
use crate::schedule::{Fault, RECOVERY_GRACE_MS};

/// A fault's note for the summary.
#[derive(Debug, Clone)]
pub struct Note {
    /// The fault's number in the plan.
    pub fault: usize,
    /// Its kind.
    pub kind: &'static str,
    /// The validator.
    pub node: usize,
    /// What happened, in order.
    pub parts: Vec<String>,
}

/// A disk-full fault being watched.
#[derive(Debug, Clone)]
struct DiskWatch {
    fault: usize,
    /// Cluster time (ms) of the start and of the heal.
    start_ms: u64,
    heal_ms: Option<u64>,
    /// The node stopped during the fault (and is down until the heal).
    stopped: bool,
    /// The start that the heal (or a stop after the heal) made.
    restarted_run: Option<u8>,
}

/// A torn write, from the kill on; `run` and `heal_ms` once it is restarted.
#[derive(Debug, Clone)]
struct TornWatch {
    fault: usize,
    run: Option<u8>,
    heal_ms: Option<u64>,
    /// The damaged log file's name.
    wal: Option<String>,
    /// The last height the killed run logged as committed.
    committed: Option<u64>,
    /// What RocksDB's recovery and the restarted node's first lines said (noted once).
    recovery_noted: bool,
    start_noted: bool,
}

/// A skewed run of a node: the fault, its start number, and the offset.
#[derive(Debug, Clone)]
struct SkewWatch {
    fault: usize,
    run: u8,
    offset_ms: i64,
}

/// The number after `key` in a log line (`height=12` with key `height=`).
fn field(line: &str, key: &str) -> Option<u64> {
    let rest = line.split_once(key)?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Carries out the storage and clock faults and follows the nodes that exit.
#[derive(Debug, Default)]
pub struct Tracker {
    /// One note per fault of these kinds, by fault number.
    pub notes: BTreeMap<usize, Note>,
    /// Findings: node behaviour that breaks the rules (each fails the run).
    pub findings: Vec<String>,
    /// Every exit seen, for the report.
    pub exits: Vec<Exit>,
    disks: BTreeMap<usize, DiskWatch>,
    torn: BTreeMap<usize, TornWatch>,
    skews: BTreeMap<usize, SkewWatch>,
    /// Validators given a torn write, with the fault numbers.
    pub torn_nodes: BTreeMap<usize, Vec<usize>>,
    /// The genesis's `max_clock_drift_ms`.
    pub drift_ms: u64,
}

fn excerpt(line: &str) -> String {
    const MAX: usize = 240;
    let line = line.trim();
    if line.chars().count() <= MAX {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

fn secs(ms: u64) -> f64 {
    Duration::from_millis(ms).as_secs_f64()
}

/// `+1.3 s`, `-12.0 s`.
fn signed_secs(ms: i128) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let abs = u64::try_from(ms.unsigned_abs()).unwrap_or(u64::MAX);
    format!("{sign}{:.1} s", secs(abs))
}

/// The last non-empty log line of an exit, shortened.
fn last_line(exit: &Exit) -> String {
    exit.tail
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or_else(|| "(no output)".to_owned(), |l| excerpt(l))
}

/// Whether an exit is the one the rules ask for when a storage write fails: a non-zero exit
/// code (not a panic, not a signal), with a storage error in the node's last log lines.
pub fn is_clean_storage_stop(exit: &Exit) -> bool {
    let storage = exit.tail.iter().any(|l| {
        l.contains("No space left on device")
            || l.contains("database error")
            || l.contains("storage")
    });
    matches!(exit.code, Some(code) if code != 0) && !exit.panicked() && storage
}

impl Tracker {
    /// A tracker for a genesis allowing `drift_ms` of clock drift.
    pub fn new(drift_ms: u64) -> Self {
        Self {
            drift_ms,
            ..Self::default()
        }
    }

    fn note(&mut self, fault: usize, kind: &'static str, node: usize) -> &mut Note {
        self.notes.entry(fault).or_insert_with(|| Note {
            fault,
            kind,
            node,
            parts: Vec::new(),
        })
    }

    fn say(&mut self, fault: usize, kind: &'static str, node: usize, what: String) {
        self.note(fault, kind, node).parts.push(what);
    }

    /// Starts or heals fault number `id` if it is a disk-full, torn-write or clock-skew fault
    /// (`Ok(false)` for other kinds).
    pub fn apply(
        &mut self,
        cluster: &Cluster,
        id: usize,
        fault: &Fault,
        start: bool,
    ) -> anyhow::Result<bool> {
        match fault {
            Fault::DiskFull { node, margin_kib } => {
                let node = *node;
                if start {
                    self.poll(cluster);
                    let what = cluster.fill_disk(node, margin_kib * 1024)?;
                    self.say(id, "disk-full", node, what);
                    self.disks.insert(
                        node,
                        DiskWatch {
                            fault: id,
                            start_ms: cluster.elapsed_ms(),
                            heal_ms: None,
                            stopped: false,
                            restarted_run: None,
                        },
                    );
                } else {
                    cluster.unfill_disk(node)?;
                    // An exit just before the heal still counts as during the fault.
                    self.poll(cluster);
                    let now = cluster.elapsed_ms();
                    let Some(mut watch) = self.disks.get(&node).cloned() else {
                        return Ok(true);
                    };
                    watch.heal_ms = Some(now);
                    if cluster.state(node) == EXITED {
                        let run = cluster.restart(node)?;
                        watch.restarted_run = Some(run);
                        self.say(id, "disk-full", node, "restarted at the heal".to_owned());
                    } else if cluster.state(node) == RUNNING {
                        self.say(
                            id,
                            "disk-full",
                            node,
                            "kept running through the fault (its writes fit, or none failed)"
                                .to_owned(),
                        );
                    }
                    self.disks.insert(node, watch);
                }
                Ok(true)
            }
            Fault::TornWrite {
                node,
                bytes,
                overwrite,
            } => {
                let node = *node;
                if start {
                    cluster.kill(node)?;
                    self.torn_nodes.entry(node).or_default().push(id);
                    let committed = cluster
                        .run_log(node, cluster.current_run(node))
                        .iter()
                        .rev()
                        .find(|l| l.contains("committed height="))
                        .and_then(|l| field(l, "committed height="));
                    let torn = cluster.tear_wal(node, *bytes, *overwrite)?;
                    let mut what = torn.text;
                    if let Some(height) = committed {
                        what.push_str(&format!(
                            " (the killed run had logged height {height} committed)"
                        ));
                    }
                    self.say(id, "torn-write", node, what);
                    self.torn.insert(
                        node,
                        TornWatch {
                            fault: id,
                            run: None,
                            heal_ms: None,
                            recovery_noted: torn.wal.is_none(),
                            wal: torn.wal,
                            committed,
                            start_noted: false,
                        },
                    );
                } else {
                    let run = cluster.restart(node)?;
                    if let Some(watch) = self.torn.get_mut(&node) {
                        watch.run = Some(run);
                        watch.heal_ms = Some(cluster.elapsed_ms());
                    }
                    self.say(id, "torn-write", node, format!("restarted (start #{run})"));
                }
                Ok(true)
            }
            Fault::ClockSkew { node, offset_ms } => {
                let node = *node;
                if start {
                    cluster.set_skew(node, Some(*offset_ms))?;
                    cluster.kill(node)?;
                    let run = cluster.restart(node)?;
                    let bound = if offset_ms.unsigned_abs() <= self.drift_ms {
                        "within"
                    } else {
                        "beyond"
                    };
                    self.say(
                        id,
                        "clock-skew",
                        node,
                        format!(
                            "restarted with its clock {} ({bound} the genesis's {} ms drift bound)",
                            clock::faketime_spec(*offset_ms),
                            self.drift_ms
                        ),
                    );
                    self.skews.insert(
                        node,
                        SkewWatch {
                            fault: id,
                            run,
                            offset_ms: *offset_ms,
                        },
                    );
                } else {
                    if let Some(watch) = self.skews.remove(&node) {
                        // The node logs several lines a second: its last line's stamp minus
                        // the real time now is the offset, less the line's age.
                        let now = clock::wall_ms();
                        let seen = cluster
                            .run_log(node, watch.run)
                            .iter()
                            .rev()
                            .find_map(|l| clock::log_line_ms(l));
                        let text = match seen {
                            Some(ms) => format!(
                                "its last log line before the heal was stamped {} from the real clock (asked {})",
                                signed_secs(i128::from(ms) - i128::from(now)),
                                signed_secs(i128::from(watch.offset_ms))
                            ),
                            None => "no timestamped log line in the skewed run".to_owned(),
                        };
                        self.say(watch.fault, "clock-skew", node, text);
                    }
                    cluster.set_skew(node, None)?;
                    cluster.kill(node)?;
                    cluster.restart(node)?;
                    self.say(
                        id,
                        "clock-skew",
                        node,
                        "restarted on the real clock".to_owned(),
                    );
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Looks for node processes that exited by themselves and attributes each one.
    pub fn poll(&mut self, cluster: &Cluster) {
        for exit in cluster.reap() {
            self.on_exit(cluster, exit);
        }
        self.note_torn_recoveries(cluster);
        // Watches end after the recovery grace.
        let now = cluster.elapsed_ms();
        self.disks
            .retain(|_, w| w.heal_ms.is_none_or(|h| now < h + 2 * RECOVERY_GRACE_MS));
        let expired: Vec<usize> = self
            .torn
            .iter()
            .filter(|(_, w)| w.heal_ms.is_some_and(|h| now >= h + 2 * RECOVERY_GRACE_MS))
            .map(|(node, _)| *node)
            .collect();
        for node in expired {
            if let Some(watch) = self.torn.remove(&node) {
                if !watch.recovery_noted {
                    self.say(
                        watch.fault,
                        "torn-write",
                        node,
                        "RocksDB's LOG says nothing about the damaged file".to_owned(),
                    );
                }
            }
        }
    }

    /// Notes what RocksDB's recovery did with each torn log, and at which height the restarted
    /// node started consensus, once they are in the logs.
    fn note_torn_recoveries(&mut self, cluster: &Cluster) {
        let mut said = Vec::new();
        for (node, watch) in &mut self.torn {
            let Some(run) = watch.run else { continue };
            if !watch.recovery_noted {
                if let Some(wal) = &watch.wal {
                    let lines = crate::disk::recovery_lines(&cluster.data_dir(*node), wal);
                    if !lines.is_empty() {
                        watch.recovery_noted = true;
                        said.push((watch.fault, *node, format!("RocksDB: {}", lines.join("; "))));
                    }
                }
            }
            if !watch.start_noted {
                let start = cluster
                    .run_log(*node, run)
                    .into_iter()
                    .find(|l| l.contains("starting consensus"));
                if let Some(line) = start {
                    watch.start_noted = true;
                    let height = field(&line, "height=");
                    let entries = field(&line, "wal_entries=");
                    let lost = match (height, watch.committed) {
                        (Some(h), Some(c)) if h <= c => format!(
                            ", {} committed block(s) lost with the torn record, fetched again from its peers",
                            c + 1 - h
                        ),
                        _ => String::new(),
                    };
                    said.push((
                        watch.fault,
                        *node,
                        format!(
                            "it started consensus at height {} with {} consensus-log entries{lost}",
                            height.map_or("?".to_owned(), |h| h.to_string()),
                            entries.map_or("?".to_owned(), |e| e.to_string())
                        ),
                    ));
                }
            }
        }
        for (fault, node, text) in said {
            self.say(fault, "torn-write", node, text);
        }
    }

    fn on_exit(&mut self, cluster: &Cluster, exit: Exit) {
        let node = exit.node;
        let how = format!(
            "{} (start #{}): {}",
            exit.status,
            exit.run,
            last_line(&exit)
        );
        self.exits.push(exit.clone());
        if let Some(watch) = self.disks.get(&node).cloned() {
            let fault = watch.fault;
            if watch.restarted_run == Some(exit.run) {
                let text =
                    format!("did not run again on its data after the disk had room again: {how}");
                self.findings.push(format!(
                    "disk-full #{fault}: node {node} {text}; its last log lines:\n      {}",
                    exit.tail.join("\n      ")
                ));
                self.say(fault, "disk-full", node, text);
                return;
            }
            let after = exit.at_ms.saturating_sub(watch.start_ms);
            let when = match watch.heal_ms {
                None => format!("{:.1} s after the disk filled", secs(after)),
                Some(heal) => format!(
                    "{:.1} s after the disk got room back",
                    secs(exit.at_ms.saturating_sub(heal))
                ),
            };
            let clean = is_clean_storage_stop(&exit);
            let text = format!(
                "stopped by itself {when}{}: {how}",
                if clean {
                    ""
                } else {
                    " NOT AS THE RULES SAY (a failed storage write must stop the node with a non-zero status and a storage error)"
                }
            );
            if !clean {
                self.findings.push(format!(
                    "disk-full #{fault}: node {node} {text}; its last log lines:\n      {}",
                    exit.tail.join("\n      ")
                ));
            }
            self.say(fault, "disk-full", node, text);
            let mut watch = watch;
            watch.stopped = true;
            if watch.heal_ms.is_some() {
                // Already healed: the harness restarts it now.
                match cluster.restart(node) {
                    Ok(run) => {
                        watch.restarted_run = Some(run);
                        self.say(
                            fault,
                            "disk-full",
                            node,
                            format!("restarted (start #{run})"),
                        );
                    }
                    Err(error) => self
                        .findings
                        .push(format!("harness: cannot restart node {node}: {error:#}")),
                }
            }
            self.disks.insert(node, watch);
            return;
        }
        if let Some(watch) = self.torn.get(&node).cloned() {
            if watch.run == Some(exit.run) {
                let fault = watch.fault;
                let text = format!(
                    "refused to start on its damaged write-ahead log ({:.1} s after the restart): {how}",
                    secs(exit.at_ms.saturating_sub(watch.heal_ms.unwrap_or(exit.at_ms)))
                );
                self.findings.push(format!(
                    "torn-write #{fault}: node {node} {text}; left down; its last log lines:\n      {}",
                    exit.tail.join("\n      ")
                ));
                self.say(fault, "torn-write", node, text);
                return;
            }
        }
        self.findings.push(format!(
            "node {node} exited by itself at +{:.1}s, under no fault that explains it: {how}; its last log lines:\n      {}",
            secs(exit.at_ms),
            exit.tail.join("\n      ")
        ));
    }

    /// The public keys (as the API prints them) of the validators given a torn write, with the
    /// faults: an equivocation by one of them is the expected effect of a lost synced record.
    pub fn torn_keys(&self, cluster: &Cluster) -> BTreeMap<String, String> {
        self.torn_nodes
            .iter()
            .filter_map(|(node, faults)| {
                let key = cluster
                    .genesis
                    .validators
                    .get(*node)?
                    .validator
                    .public_key
                    .to_string();
                let faults: Vec<String> = faults.iter().map(|f| format!("#{f}")).collect();
                Some((
                    key,
                    format!("validator {node}, torn write {}", faults.join(", ")),
                ))
            })
            .collect()
    }

    /// Adds a part to fault `id`'s note, if it has one.
    pub fn add(&mut self, id: usize, what: String) {
        if let Some(note) = self.notes.get_mut(&id) {
            note.parts.push(what);
        }
    }

    /// The notes, one line each.
    pub fn lines(&self) -> Vec<String> {
        self.notes
            .values()
            .map(|n| {
                format!(
                    "{} #{} on node {}: {}",
                    n.kind,
                    n.fault,
                    n.node,
                    n.parts.join("; ")
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: Option<i32>, tail: &[&str]) -> Exit {
        Exit {
            node: 1,
            run: 2,
            at_ms: 10_000,
            code,
            status: code.map_or("signal: 6 (SIGABRT)".to_owned(), |c| {
                format!("exit status: {c}")
            }),
            tail: tail.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    #[test]
    fn only_a_non_zero_exit_with_a_storage_error_is_a_clean_stop() {
        let enospc = "error: storing a decided block failed: database error while writing a synced batch: IO error: No space left on device";
        assert!(is_clean_storage_stop(&exit(Some(1), &["INFO x", enospc])));
        assert!(
            !is_clean_storage_stop(&exit(Some(0), &[enospc])),
            "status 0"
        );
        assert!(!is_clean_storage_stop(&exit(None, &[enospc])), "a signal");
        assert!(
            !is_clean_storage_stop(&exit(Some(101), &[enospc])),
            "a panic"
        );
        assert!(!is_clean_storage_stop(&exit(
            Some(1),
            &[
                "thread 'courtledger-driver' panicked at node/src/driver.rs:115:13:",
                enospc
            ]
        )));
        assert!(!is_clean_storage_stop(&exit(
            Some(1),
            &["error: cannot listen"]
        )));
        assert_eq!(last_line(&exit(Some(1), &["a", "b  ", ""])), "b");
    }

    #[test]
    fn log_fields_are_read() {
        let line = "2026-11-29T07:06:30.960709Z  INFO courtledger_node::driver: starting consensus height=29 wal_entries=4 pending_blocks=0";
        assert_eq!(field(line, "height="), Some(29));
        assert_eq!(field(line, "wal_entries="), Some(4));
        assert_eq!(field(line, "round="), None);
        let committed = "INFO courtledger_node::driver: committed height=1459 block_id=ab txs=2";
        assert_eq!(field(committed, "committed height="), Some(1459));
        assert_eq!(signed_secs(-21_442), "-21.4 s");
        assert_eq!(signed_secs(870), "+0.9 s");
    }
}
