//! Calendar arithmetic for case numbers, on block time only (no clock is read).

/// Case numbers take the year in China Standard Time (UTC+8, no daylight saving).
pub const CASE_NUMBER_UTC_OFFSET_MS: u64 = 8 * 60 * 60 * 1000;

const MS_PER_DAY: u64 = 24 * 60 * 60 * 1000;

/// The proleptic Gregorian year of `days` days after 1970-01-01 (days ≥ 0).
///
/// Howard Hinnant's `civil_from_days`, restricted to non-negative day counts.
fn year_from_days(days: u64) -> u64 {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400;
    if month <= 2 {
        year + 1
    } else {
        year
    }
}

/// The year (UTC+8) of a block time in milliseconds since the Unix epoch, or `None` past 65535.
pub fn case_year(time_ms: u64) -> Option<u16> {
    let local = time_ms.checked_add(CASE_NUMBER_UTC_OFFSET_MS)?;
    u16::try_from(year_from_days(local / MS_PER_DAY)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 1970-01-01T00:00Z
        assert_eq!(case_year(0), Some(1970));
        // 2025-12-31T15:59:59.999Z is 23:59:59.999 in UTC+8: still 2025.
        assert_eq!(case_year(1_767_196_799_999), Some(2025));
        // One millisecond later it is 2026 in Beijing (still 2025 in UTC).
        assert_eq!(case_year(1_767_196_800_000), Some(2026));
        // 2000-02-29T12:00Z (a leap day of a century leap year).
        assert_eq!(case_year(951_825_600_000), Some(2000));
        // 2100-03-01T00:00Z
        assert_eq!(case_year(4_107_542_400_000), Some(2100));
        assert_eq!(case_year(u64::MAX), None);
    }

    #[test]
    fn year_changes_exactly_at_beijing_midnight_for_many_years() {
        // Walk 1970..2200: the first day of each year is day-of-epoch of Jan 1.
        let mut days: u64 = 0;
        for year in 1970u64..2200 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let start_ms = days * MS_PER_DAY;
            if start_ms >= CASE_NUMBER_UTC_OFFSET_MS {
                let boundary = start_ms - CASE_NUMBER_UTC_OFFSET_MS;
                assert_eq!(case_year(boundary), u16::try_from(year).ok());
                assert_eq!(case_year(boundary - 1), u16::try_from(year - 1).ok());
            }
            days += if leap { 366 } else { 365 };
        }
    }
}
