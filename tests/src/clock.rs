//! Clock skew for one validator: the node is restarted with libfaketime preloaded
//! (`LD_PRELOAD`, Debian's package `faketime`), which shifts what `clock_gettime(CLOCK_REALTIME)`
//! and friends return by a fixed offset (`FAKETIME="+1.250s"`). The monotonic clock is left
//! alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`): the node's timers keep working, only its wall
//! clock (block times, the drift check, its log's timestamps) is off.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where Debian's `libfaketime` puts the library, tried after asking `dpkg -L libfaketime`.
const KNOWN_PATHS: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

/// The path of `libfaketime.so.1`, if it is installed.
pub fn find_library() -> Option<PathBuf> {
    let listed = Command::new("dpkg")
        .args(["-L", "libfaketime"])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    listed
        .lines()
        .map(str::trim)
        .filter(|line| line.ends_with("/libfaketime.so.1"))
        .map(PathBuf::from)
        .chain(KNOWN_PATHS.iter().map(PathBuf::from))
        .find(|path| path.is_file())
}

/// The value of `FAKETIME` for an offset in milliseconds: `+1.250s`, `-12.000s`. (libfaketime
/// reads the fraction with the C library's locale; the node never sets one, so `.` is right.)
pub fn faketime_spec(offset_ms: i64) -> String {
    let sign = if offset_ms < 0 { '-' } else { '+' };
    let abs = offset_ms.unsigned_abs();
    format!("{sign}{}.{:03}s", abs / 1000, abs % 1000)
}

/// The environment of a process whose wall clock is `offset_ms` off.
pub fn environment(library: &Path, offset_ms: i64) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".to_owned(), library.display().to_string()),
        ("FAKETIME".to_owned(), faketime_spec(offset_ms)),
        ("FAKETIME_DONT_FAKE_MONOTONIC".to_owned(), "1".to_owned()),
    ]
}

/// Milliseconds since the Unix epoch, by this process's (unskewed) clock.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Checks that the library shifts a real program's clock: `date +%s%N` run with an offset of
/// +10.5 s must print a time 10.5 s ahead (within 0.5 s).
pub fn self_check(library: &Path) -> Result<(), String> {
    let offset_ms = 10_500i64;
    let before = wall_ms();
    let output = Command::new("date")
        .arg("+%s%N")
        .envs(environment(library, offset_ms))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run date: {e}"))?;
    let after = wall_ms();
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let nanos: u128 = text
        .parse()
        .map_err(|_| format!("date under libfaketime printed {text:?}"))?;
    let shown = u64::try_from(nanos / 1_000_000).unwrap_or(0);
    let low = before + 10_000;
    let high = after + 11_000;
    if (low..=high).contains(&shown) {
        Ok(())
    } else {
        Err(format!(
            "date under {} with FAKETIME={} showed {shown}, expected {}..={}",
            library.display(),
            faketime_spec(offset_ms),
            low,
            high
        ))
    }
}

/// The time of a log line that starts with an RFC 3339 UTC timestamp
/// (`2026-11-29T06:44:28.364454Z ...`, as the node's `tracing` output does), in milliseconds
/// since the Unix epoch.
pub fn log_line_ms(line: &str) -> Option<u64> {
    let stamp = line.split_whitespace().next()?.strip_suffix('Z')?;
    let (date, time) = stamp.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut clock_parts = clock.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (
        clock_parts.next()?.ok()?,
        clock_parts.next()?.ok()?,
        clock_parts.next()?.ok()?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let digits: String = fraction.chars().take(3).collect();
    let millis: i64 = format!("{digits:0<3}").parse().ok()?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    u64::try_from(seconds * 1_000 + millis).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let shifted = (month + 9) % 12;
    let doy = (153 * shifted + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_log_times() {
        assert_eq!(faketime_spec(1_250), "+1.250s");
        assert_eq!(faketime_spec(-12_000), "-12.000s");
        assert_eq!(faketime_spec(-505), "-0.505s");
        assert_eq!(faketime_spec(0), "+0.000s");
        assert_eq!(log_line_ms("1970-01-01T00:00:00Z x"), Some(0));
        assert_eq!(
            log_line_ms("2000-03-01T00:00:01.5Z  INFO a: b"),
            Some(951_868_801_500)
        );
        assert_eq!(
            log_line_ms("2026-11-29T06:44:28.364454Z  INFO libp2p_swarm: local_peer_id=x"),
            Some(1_795_934_668_364)
        );
        assert_eq!(log_line_ms("error: cannot listen"), None);
        assert_eq!(log_line_ms("==== nemesis: start #2 of node 1 ===="), None);
    }
}
