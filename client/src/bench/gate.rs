//! Holding a sender's transactions until what they depend on is committed.
//!
//! A party acknowledges a served document only once the service is on the ledger: a dependent
//! act submitted earlier would be executed before its prerequisite and fail. The [`Gate`] gives
//! a sender the places of its queue that may go now, in order per signer (a signer's nonces
//! must arrive in order, so everything of a signer after a held transaction is held too), while
//! other signers' transactions go past. Pure: the caller says what is ready.

use std::collections::{BTreeSet, HashMap, HashSet};

/// Whether the transaction at a place may be submitted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ready {
    /// Nothing it depends on is missing.
    Now,
    /// What it depends on is not committed yet.
    Later,
    /// What it depends on will never be committed (it was refused): it cannot go.
    Never,
}

/// A sender's queue as it is handed out: places never looked at, and places held.
#[derive(Debug)]
pub(super) struct Gate {
    /// Places in the queue.
    len: usize,
    /// The first place never looked at.
    cursor: usize,
    /// Places looked at and held, in queue order.
    held: BTreeSet<usize>,
    /// How many places each signer has held.
    held_by: HashMap<usize, usize>,
    /// Most places held at once: the cursor stops while this many wait.
    limit: usize,
    /// Signers with a transaction that can never go: none of their later ones go either.
    dead: HashSet<usize>,
}

impl Gate {
    /// A gate over a queue of `len` places that holds at most `limit` at once.
    pub(super) fn new(len: usize, limit: usize) -> Self {
        assert!(limit > 0, "a gate holds at least one place");
        Self {
            len,
            cursor: 0,
            held: BTreeSet::new(),
            held_by: HashMap::new(),
            limit,
            dead: HashSet::new(),
        }
    }

    /// Every place was handed out (or dropped).
    pub(super) fn done(&self) -> bool {
        self.cursor == self.len && self.held.is_empty()
    }

    /// Places held now.
    pub(super) fn holding(&self) -> usize {
        self.held.len()
    }

    /// Up to `most` places that may be submitted now, in queue order per signer: held places
    /// that became ready first (looked at again only with `recheck`: something was committed
    /// or refused since the last look), then places never looked at. A place whose signer has
    /// an earlier place held is held too; so is one that is [`Ready::Later`]. The second list:
    /// places that can never go, a [`Ready::Never`] one (with `true`) and every later one of
    /// its signer (with `false`).
    pub(super) fn take(
        &mut self,
        most: usize,
        recheck: bool,
        signer_of: impl Fn(usize) -> usize,
        mut ready: impl FnMut(usize) -> Ready,
    ) -> (Vec<usize>, Vec<(usize, bool)>) {
        let mut out = Vec::new();
        let mut dropped = Vec::new();
        if recheck {
            // Signers whose earliest held place still waits: their later places wait behind it.
            let mut blocked: HashSet<usize> = HashSet::new();
            let held: Vec<usize> = self.held.iter().copied().collect();
            for place in held {
                if out.len() >= most {
                    break;
                }
                let signer = signer_of(place);
                if blocked.contains(&signer) {
                    continue;
                }
                if self.dead.contains(&signer) {
                    self.release(place, signer);
                    dropped.push((place, false));
                    continue;
                }
                match ready(place) {
                    Ready::Now => {
                        self.release(place, signer);
                        out.push(place);
                    }
                    Ready::Later => {
                        blocked.insert(signer);
                    }
                    Ready::Never => {
                        self.release(place, signer);
                        self.dead.insert(signer);
                        dropped.push((place, true));
                    }
                }
            }
        }
        while out.len() < most && self.cursor < self.len && self.held.len() < self.limit {
            let place = self.cursor;
            self.cursor += 1;
            let signer = signer_of(place);
            if self.dead.contains(&signer) {
                dropped.push((place, false));
                continue;
            }
            // A signer with an earlier place held waits behind it.
            let verdict = if self.held_by.contains_key(&signer) {
                Ready::Later
            } else {
                ready(place)
            };
            match verdict {
                Ready::Now => out.push(place),
                Ready::Later => {
                    self.held.insert(place);
                    *self.held_by.entry(signer).or_insert(0) += 1;
                }
                Ready::Never => {
                    self.dead.insert(signer);
                    dropped.push((place, true));
                }
            }
        }
        (out, dropped)
    }

    /// `place` of `signer` is no longer held.
    fn release(&mut self, place: usize, signer: usize) {
        let removed = self.held.remove(&place);
        assert!(removed, "only held places are released");
        let count = self
            .held_by
            .get_mut(&signer)
            .expect("a held place's signer is counted");
        *count -= 1;
        if *count == 0 {
            self.held_by.remove(&signer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Place `p` belongs to signer `p % 3`.
    fn signer(place: usize) -> usize {
        place % 3
    }

    /// `verdict` for `places`, [`Ready::Now`] for every other place.
    fn except(places: &[usize], verdict: Ready) -> impl Fn(usize) -> Ready + '_ {
        move |place| {
            if places.contains(&place) {
                verdict
            } else {
                Ready::Now
            }
        }
    }

    #[test]
    fn without_dependencies_places_go_in_order() {
        let mut gate = Gate::new(10, 4);
        let (out, dropped) = gate.take(4, true, signer, |_| Ready::Now);
        assert_eq!(out, vec![0, 1, 2, 3]);
        assert!(dropped.is_empty());
        let (out, _) = gate.take(100, true, signer, |_| Ready::Now);
        assert_eq!(out, (4..10).collect::<Vec<_>>());
        assert!(gate.done());
        assert_eq!(
            gate.take(5, true, signer, |_| Ready::Now).0,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn a_held_place_holds_its_signers_later_places_only() {
        let mut gate = Gate::new(9, 100);
        // Place 1 (signer 1) waits for a commit.
        let (out, _) = gate.take(100, true, signer, except(&[1], Ready::Later));
        // Signer 1's places 1, 4, 7 are held; the others went.
        assert_eq!(out, vec![0, 2, 3, 5, 6, 8]);
        assert_eq!(gate.holding(), 3);
        assert!(!gate.done());
        // Still not committed: nothing goes.
        let (out, _) = gate.take(100, true, signer, except(&[1], Ready::Later));
        assert!(out.is_empty());
        // Committed.
        let (out, _) = gate.take(100, true, signer, |_| Ready::Now);
        assert_eq!(out, vec![1, 4, 7]);
        assert!(gate.done());
    }

    #[test]
    fn at_most_most_places_and_the_held_limit_stops_the_cursor() {
        let mut gate = Gate::new(30, 2);
        // Signers 0 and 1 are held at their first places; the limit (2) stops the cursor
        // there, so signer 2's place 2 is not reached.
        let (out, _) = gate.take(100, true, signer, except(&[0, 1], Ready::Later));
        assert!(out.is_empty());
        assert_eq!(gate.holding(), 2);
        // Released: at most 3 go, the held ones first.
        let (out, _) = gate.take(3, true, signer, |_| Ready::Now);
        assert_eq!(out, vec![0, 1, 2]);
        let (out, _) = gate.take(100, true, signer, |_| Ready::Now);
        assert_eq!(out, (3..30).collect::<Vec<_>>());
        assert!(gate.done());
    }

    #[test]
    fn held_places_are_looked_at_again_only_when_asked() {
        let mut gate = Gate::new(6, 100);
        let (out, _) = gate.take(100, true, signer, except(&[0], Ready::Later));
        assert_eq!(out, vec![1, 2, 4, 5]);
        // Ready now, but not looked at: nothing was committed since.
        let (out, _) = gate.take(100, false, signer, |_| Ready::Now);
        assert!(out.is_empty());
        let (out, _) = gate.take(100, true, signer, |_| Ready::Now);
        assert_eq!(out, vec![0, 3]);
        assert!(gate.done());
    }

    #[test]
    fn a_place_that_can_never_go_drops_its_signers_later_places() {
        let mut gate = Gate::new(9, 100);
        let (out, dropped) = gate.take(100, true, signer, except(&[4], Ready::Never));
        assert_eq!(out, vec![0, 1, 2, 3, 5, 6, 8]);
        assert_eq!(dropped, vec![(4, true), (7, false)]);
        assert!(gate.done());

        // Dropped while held.
        let mut gate = Gate::new(9, 100);
        let (out, _) = gate.take(100, true, signer, except(&[4], Ready::Later));
        assert_eq!(out, vec![0, 1, 2, 3, 5, 6, 8]);
        let (out, dropped) = gate.take(100, true, signer, |_| Ready::Never);
        assert!(out.is_empty());
        assert_eq!(dropped, vec![(4, true), (7, false)]);
        assert!(gate.done());
    }

    #[test]
    fn a_pass_that_stops_early_still_keeps_signers_in_order() {
        let mut gate = Gate::new(9, 100);
        // Places 0 and 1 held.
        let (out, _) = gate.take(100, true, signer, except(&[0, 1], Ready::Later));
        assert_eq!(out, vec![2, 5, 8]);
        // Place 0 ready, 1 not: one place taken, the pass stops before 1.
        let (out, _) = gate.take(1, true, signer, except(&[1], Ready::Later));
        assert_eq!(out, vec![0]);
        let (out, _) = gate.take(100, true, signer, |_| Ready::Now);
        assert_eq!(out, vec![1, 3, 4, 6, 7]);
        assert!(gate.done());
    }
}
