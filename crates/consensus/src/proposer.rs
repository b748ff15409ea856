//! Proposer selection: deterministic weighted round robin.
//!
//! The proposer of `(height, round)` is `schedule[(height - 1 + round) mod len]`. For total voting
//! power up to [`MAX_SMOOTH_SCHEDULE`] the schedule is the smooth weighted round robin over one
//! period of `total power` slots: each validator proposes in proportion to its power, spread as
//! evenly as possible (ties go to the lower index). Larger totals use the cumulative-power
//! intervals of the slot `(height - 1 + round) mod total`, still proportional but not spread.

use courtledger_types::ValidatorSet;

/// Largest total voting power for which the smooth schedule is materialised.
pub const MAX_SMOOTH_SCHEDULE: u64 = 1 << 16;

/// A validator set's proposer schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposerSchedule {
    kind: ScheduleKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ScheduleKind {
    Smooth(Vec<u16>),
    Intervals { cumulative: Vec<u64>, total: u64 },
}

impl ProposerSchedule {
    /// Builds the schedule of `set`.
    pub fn new(set: &ValidatorSet) -> Self {
        let powers: Vec<u64> = set.validators().iter().map(|v| v.voting_power).collect();
        let total = set.total_power();
        if total <= MAX_SMOOTH_SCHEDULE {
            let total_i = i128::from(total);
            let mut current: Vec<i128> = vec![0; powers.len()];
            let mut schedule = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
            for _ in 0..total {
                for (credit, power) in current.iter_mut().zip(&powers) {
                    *credit += i128::from(*power);
                }
                let mut best = 0usize;
                for (index, credit) in current.iter().enumerate() {
                    if *credit > current[best] {
                        best = index;
                    }
                }
                current[best] -= total_i;
                schedule.push(u16::try_from(best).expect("at most 128 validators"));
            }
            Self {
                kind: ScheduleKind::Smooth(schedule),
            }
        } else {
            let cumulative = powers
                .iter()
                .scan(0u64, |sum, power| {
                    *sum += power;
                    Some(*sum)
                })
                .collect();
            Self {
                kind: ScheduleKind::Intervals { cumulative, total },
            }
        }
    }

    /// The index of the proposer of `round` at `height`.
    pub fn proposer_index(&self, height: u64, round: u32) -> usize {
        let slot_base = height.wrapping_sub(1).wrapping_add(u64::from(round));
        match &self.kind {
            ScheduleKind::Smooth(schedule) => {
                let len = u64::try_from(schedule.len()).expect("schedule length fits u64");
                let slot = usize::try_from(slot_base % len).expect("slot below schedule length");
                usize::from(schedule[slot])
            }
            ScheduleKind::Intervals { cumulative, total } => {
                let slot = slot_base % total;
                cumulative.partition_point(|end| *end <= slot)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_crypto::SigningKey;
    use courtledger_types::Validator;

    fn set(powers: &[u64]) -> ValidatorSet {
        ValidatorSet::new(
            powers
                .iter()
                .zip(1u8..)
                .map(|(power, n)| Validator {
                    public_key: SigningKey::from_seed(&[n; 32]).public_key(),
                    voting_power: *power,
                })
                .collect(),
        )
        .unwrap()
    }

    fn counts(schedule: &ProposerSchedule, validators: usize, slots: u64) -> Vec<u64> {
        let mut counts = vec![0; validators];
        for height in 1..=slots {
            counts[schedule.proposer_index(height, 0)] += 1;
        }
        counts
    }

    #[test]
    fn equal_power_rotates() {
        let schedule = ProposerSchedule::new(&set(&[1, 1, 1, 1]));
        let order: Vec<usize> = (1..=8).map(|h| schedule.proposer_index(h, 0)).collect();
        assert_eq!(order, vec![0, 1, 2, 3, 0, 1, 2, 3]);
        // A later round moves to the next proposer.
        assert_eq!(schedule.proposer_index(1, 1), 1);
    }

    #[test]
    fn proportional_to_power() {
        let schedule = ProposerSchedule::new(&set(&[3, 2, 2, 2]));
        assert_eq!(counts(&schedule, 4, 90), vec![30, 20, 20, 20]);
        // Smooth: the heaviest validator never proposes three times in a row.
        let order: Vec<usize> = (1..=9).map(|h| schedule.proposer_index(h, 0)).collect();
        assert!(
            order.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])),
            "{order:?}"
        );
    }

    #[test]
    fn large_totals_use_intervals() {
        let big = MAX_SMOOTH_SCHEDULE;
        let schedule = ProposerSchedule::new(&set(&[big, big, 2 * big]));
        assert!(matches!(schedule.kind, ScheduleKind::Intervals { .. }));
        assert_eq!(schedule.proposer_index(1, 0), 0);
        assert_eq!(schedule.proposer_index(big + 1, 0), 1);
        assert_eq!(schedule.proposer_index(2 * big + 1, 0), 2);
        assert_eq!(schedule.proposer_index(4 * big, 0), 2);
        assert_eq!(schedule.proposer_index(4 * big + 1, 0), 0);
    }
}
