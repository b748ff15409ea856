//! The `lifecycle` mix: cases that go through the court, with the acts of the court's staff
//! and the receipts and signatures of the parties.
//!
//! Each case of party `p` is, in this order of the load:
//!
//! | act                  | signer      | depends on (another signer's act, committed first) |
//! |----------------------|-------------|----------------------------------------------------|
//! | `file_case`          | party       |                                                    |
//! | `submit_evidence`    | party       | (its own filing: nonce order)                      |
//! | `review_filing`      | staff       | the filing                                         |
//! | `serve_document`     | staff       | (its own review) — a notice of acceptance          |
//! | `schedule_hearing`   | staff       | (its own review)                                   |
//! | `hold_hearing`       | staff       | (its own scheduling)                               |
//! | `record_transcript`  | staff       | (its own holding) — the party must sign            |
//! | `acknowledge_service`| party       | the service                                        |
//! | `sign_transcript`    | party       | the recording                                      |
//!
//! A party's transactions go in rounds of four: in the rounds of its case `c` it files `c`,
//! submits evidence on `c`, then acknowledges the service and signs the transcript of case
//! `c - lag` (before there is such a case: a message and more evidence on `c`). The staff acts
//! of case `c` come right after the party's filing of case `c + lag / 2`. So between an act and
//! the other signer's act that depends on it lie about `lag / 2` rounds of every party's and
//! staff member's transactions ([`lag`] makes that at least [`LAG_TXS`]): time to commit, so
//! that the load generator, which holds a dependent act until its prerequisite is committed
//! ([`super::gate`]), rarely waits.
//!
//! Staff member `k` (a judge of the registrar's court) handles the cases of the parties
//! `p ≡ k (mod staff)`; all cases are filed at that court. Every act of the mix succeeds on the
//! ledger when each dependent act is committed after its prerequisite.

use anyhow::bail;
use courtledger_codec::Encode as _;
use courtledger_crypto::{sha256, ChainId, Digest};
use courtledger_ledger::act::{
    AcknowledgeService, CaseId, Decision, HoldHearing, ObjectId, RecordTranscript, ReviewFiling,
    ScheduleHearing, ServeDocument, SignTranscript,
};
use courtledger_ledger::{Act, DocumentKind, HearingMode};
use courtledger_types::CourtCode;

use super::{evidence, filing, message, Load, Party};
use crate::submit::sign_act;

/// The fewest transactions of the load between an act and another signer's act that depends on
/// it, in a load long enough ([`lag`]): about 0.8 s at 10,000 tx/s.
pub const LAG_TXS: usize = 8_192;

/// Transactions per case: four of the party's, five of the staff's.
const TXS_PER_CASE: usize = 9;

/// A hearing is scheduled at least this far after the time the load is signed (two weeks), and
/// up to 29 days more.
const HEARING_AHEAD_MS: u64 = 14 * 24 * 3600 * 1000;

/// Cases between a party's filing and its acknowledgement and signature of that case's
/// documents, with `parties` parties in a load of `txs`: even, at least 2, and enough that
/// [`LAG_TXS`] transactions lie between the half steps; but in a short load small enough that
/// the answers start within its first half (each half step at most a quarter of its cases).
pub fn lag(parties: usize, txs: usize) -> usize {
    let per_case = TXS_PER_CASE * parties.max(1);
    let half = LAG_TXS.div_ceil(per_case).min(txs / per_case / 4).max(1);
    2 * half
}

/// What the staff's acts on a case left for the party to answer.
#[derive(Debug, Clone, Copy)]
struct Answerable {
    /// The service: its id (the transaction's), its place in the load, the document's hash.
    service: (ObjectId, usize, Digest),
    /// The transcript: its id, its place in the load, its content's hash.
    transcript: (ObjectId, usize, Digest),
}

/// One case of one party, as the load goes.
#[derive(Debug, Clone, Copy)]
struct CaseState {
    /// The case id (the filing transaction's id) and the filing's place in the load.
    filed: (CaseId, usize),
    /// Set once the staff's acts are in the load.
    answerable: Option<Answerable>,
}

/// The signer of every transaction; appends to the load.
struct Signing<'a> {
    chain_id: ChainId,
    /// Parties, then staff: a signer's index in [`Load::signer`].
    keys: Vec<&'a courtledger_crypto::SigningKey>,
    nonces: Vec<u64>,
    run: [u8; 32],
    load: Vec<Load>,
    txs: usize,
    now_ms: u64,
}

impl Signing<'_> {
    fn now_ms_plus(&self, ms: u64) -> u64 {
        self.now_ms.saturating_add(ms)
    }

    fn full(&self) -> bool {
        self.load.len() >= self.txs
    }

    /// A seed unique to the next transaction of this run.
    fn seed(&self) -> [u8; 32] {
        let n = u64::try_from(self.load.len()).unwrap_or(u64::MAX);
        sha256(&[self.run.as_slice(), &n.to_be_bytes()].concat()).0
    }

    /// Signs `act` as `signer`'s next transaction and appends it; returns its id and place, or
    /// `None` (appending nothing) when the load is full.
    fn push(
        &mut self,
        signer: usize,
        act: &Act,
        after: Option<usize>,
    ) -> anyhow::Result<Option<(Digest, usize)>> {
        if self.full() {
            return Ok(None);
        }
        self.nonces[signer] += 1;
        let nonce = self.nonces[signer];
        let tx = sign_act(self.keys[signer], &self.chain_id, nonce, act)?;
        let id = tx.id();
        let place = self.load.len();
        if let Some(after) = after {
            assert!(after < place, "a prerequisite comes before its dependent");
        }
        self.load.push(Load {
            id: id.to_string(),
            bytes: tx.to_bytes().len(),
            tx,
            signer,
            nonce,
            kind: act.kind().name(),
            after,
        });
        Ok(Some((id, place)))
    }
}

/// Who signs the lifecycle load, and where.
pub(super) struct Cast<'a> {
    /// The parties.
    pub parties: &'a [Party],
    /// Judges of `court`, at least one.
    pub staff: &'a [Party],
    /// The court where the cases are filed.
    pub court: &'a CourtCode,
}

/// Signs the lifecycle load: `txs` transactions of the `cast`, with `lag` cases (even, at least
/// 2; [`lag`]) between a filing and its party's answers, hearings scheduled after `now_ms`.
/// `run` makes the load unique.
pub(super) fn sign(
    chain_id: ChainId,
    cast: &Cast<'_>,
    lag: usize,
    txs: usize,
    now_ms: u64,
    run: [u8; 32],
) -> anyhow::Result<Vec<Load>> {
    let Cast {
        parties,
        staff,
        court,
    } = *cast;
    if parties.is_empty() || staff.is_empty() {
        bail!("the lifecycle mix needs at least one party and one member of staff");
    }
    if lag < 2 || !lag.is_multiple_of(2) {
        bail!("the lifecycle's lag is even and at least 2, not {lag}");
    }
    let mut s = Signing {
        chain_id,
        keys: parties.iter().chain(staff).map(|p| &p.key).collect(),
        nonces: vec![0; parties.len() + staff.len()],
        run,
        load: Vec::with_capacity(txs),
        txs,
        now_ms,
    };
    // Each party's cases, in filing order.
    let mut cases: Vec<Vec<CaseState>> = vec![Vec::new(); parties.len()];
    let mut c = 0usize;
    while !s.full() {
        for slot in 0..4 {
            for (p, party) in parties.iter().enumerate() {
                if s.full() {
                    return Ok(s.load);
                }
                let seed = s.seed();
                let answered = c.checked_sub(lag).map(|old| cases[p][old]);
                match (slot, answered.and_then(|case| case.answerable)) {
                    (0, _) => {
                        let (id, place) = s
                            .push(p, &filing(party.id, court, &seed), None)?
                            .expect("the load is not full: checked above");
                        cases[p].push(CaseState {
                            filed: (id, place),
                            answerable: None,
                        });
                        if let Some(old) = c.checked_sub(lag / 2) {
                            let k = p % staff.len();
                            let answerable =
                                staff_acts(&mut s, parties.len() + k, party, cases[p][old].filed)?;
                            cases[p][old].answerable = answerable;
                        }
                    }
                    (1, _) => {
                        s.push(p, &evidence(cases[p][c].filed.0, &seed), None)?;
                    }
                    (2, Some(a)) => {
                        let (service, place, document) = a.service;
                        let act = Act::from(AcknowledgeService { service, document });
                        s.push(p, &act, Some(place))?;
                    }
                    (3, Some(a)) => {
                        let (transcript, place, content) = a.transcript;
                        let act = Act::from(SignTranscript {
                            transcript,
                            content,
                        });
                        s.push(p, &act, Some(place))?;
                    }
                    (2, None) => {
                        s.push(p, &message(cases[p][c].filed.0, &seed), None)?;
                    }
                    _ => {
                        s.push(p, &evidence(cases[p][c].filed.0, &seed), None)?;
                    }
                }
            }
        }
        c += 1;
    }
    Ok(s.load)
}

/// The staff member `signer`'s acts on `party`'s case `filed`: review (accept), notice of
/// acceptance served on the party, a hearing scheduled and held, its transcript recorded for
/// the party to sign. `None` when the load filled up before the last of them.
fn staff_acts(
    s: &mut Signing<'_>,
    signer: usize,
    party: &Party,
    filed: (CaseId, usize),
) -> anyhow::Result<Option<Answerable>> {
    let (case, filing_place) = filed;
    let seed = s.seed();
    let hash = |what: &[u8]| sha256(&[seed.as_slice(), what].concat());
    let review = Act::from(ReviewFiling {
        case,
        decision: Decision::Accept,
    });
    if s.push(signer, &review, Some(filing_place))?.is_none() {
        return Ok(None);
    }
    let document = hash(b"notice of acceptance");
    let Some(service) = s.push(
        signer,
        &Act::from(ServeDocument {
            case,
            recipient: party.id,
            kind: DocumentKind::Notice,
            document,
        }),
        None,
    )?
    else {
        return Ok(None);
    };
    let day = u64::from(seed[0] % 30) * 24 * 3600 * 1000;
    let Some((hearing, _)) = s.push(
        signer,
        &Act::from(ScheduleHearing {
            case,
            at_ms: s.now_ms_plus(HEARING_AHEAD_MS + day),
            mode: HearingMode::Online,
            location: format!("在线庭审室{}", 1 + seed[1] % 40),
        }),
        None,
    )?
    else {
        return Ok(None);
    };
    if s.push(signer, &Act::from(HoldHearing { hearing }), None)?
        .is_none()
    {
        return Ok(None);
    }
    let content = hash(b"transcript");
    let Some(transcript) = s.push(
        signer,
        &Act::from(RecordTranscript {
            hearing,
            transcript: content,
            signers: vec![party.id],
        }),
        None,
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Answerable {
        service: (service.0, service.1, document),
        transcript: (transcript.0, transcript.1, content),
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use courtledger_chain::{execute_block, ChainContext, LedgerApp, MemoryState};
    use courtledger_crypto::SigningKey;
    use courtledger_ledger::{Code, Role};
    use courtledger_types::SignedTransaction;

    use super::*;
    use crate::bench::registration_as;
    use crate::bench::tests::genesis_with_registrar;

    #[test]
    fn lag_keeps_enough_transactions_between_dependent_acts() {
        let long = 1 << 24;
        assert_eq!(lag(512, long), 4);
        assert_eq!(lag(2048, long), 2);
        assert_eq!(lag(64, long), 30);
        for parties in [1, 3, 64, 100, 512, 5000] {
            let lag = lag(parties, long);
            assert!(lag >= 2 && lag.is_multiple_of(2));
            assert!(lag / 2 * TXS_PER_CASE * parties >= LAG_TXS);
        }
        // A short load: the answers start within its first half.
        assert_eq!(lag(4, 600), 8);
        assert_eq!(lag(64, 12_000), 10);
        assert_eq!(lag(512, 12_000), 2);
        assert_eq!(lag(512, 720_000), 4);
    }

    /// A chain of the example genesis with `parties` parties and `staff` judges of the
    /// registrar's court registered in block 1.
    struct Chain {
        genesis: courtledger_types::Genesis,
        app: LedgerApp,
        state: MemoryState,
        parties: Vec<Party>,
        staff: Vec<Party>,
        court: CourtCode,
        time: u64,
    }

    fn chain(parties: u8, staff: u8) -> Chain {
        let registrar = SigningKey::from_seed(&[200; 32]);
        let genesis = genesis_with_registrar(&registrar);
        assert_eq!(
            genesis
                .courts
                .iter()
                .find(|c| c.code == genesis.registrars[0].court_code)
                .map(|c| c.level),
            Some(courtledger_types::CourtLevel::Basic)
        );
        let court = genesis.registrars[0].court_code.clone();
        let chain_id = genesis.chain_id();
        let app = LedgerApp::new(&genesis);
        let mut state = MemoryState::new();
        let mut txs = Vec::new();
        let mut people = Vec::new();
        for i in 0..parties + staff {
            let key = SigningKey::from_seed(&[i + 1; 32]);
            let act = if i < parties {
                registration_as(&key, [i + 100; 32], &chain_id, Role::Party, None)
            } else {
                registration_as(&key, [i + 100; 32], &chain_id, Role::Judge, Some(&court))
            };
            txs.push(sign_act(&registrar, &chain_id, u64::from(i) + 1, &act).expect("signed"));
            people.push(key);
        }
        let time = genesis.genesis_time_ms + 1_000;
        let ctx = ChainContext::from_genesis(&genesis, &app);
        let block = execute_block(&ctx, &state, &txs, 1, time).expect("block 1");
        assert!(
            block.receipts.iter().all(|r| r.code == 0),
            "{:?}",
            block.receipts
        );
        state.apply(&block.changes);
        let mut people: Vec<Party> = people
            .into_iter()
            .zip(&txs)
            .map(|(key, tx)| Party { key, id: tx.id() })
            .collect();
        let staff = people.split_off(usize::from(parties));
        Chain {
            genesis,
            app,
            state,
            parties: people,
            staff,
            court,
            time,
        }
    }

    fn sign_on(chain: &Chain, lag: usize, txs: usize) -> Vec<Load> {
        let cast = Cast {
            parties: &chain.parties,
            staff: &chain.staff,
            court: &chain.court,
        };
        sign(
            chain.genesis.chain_id(),
            &cast,
            lag,
            txs,
            chain.time,
            [9; 32],
        )
        .expect("load")
    }

    #[test]
    fn the_load_is_each_signers_nonces_in_order_and_dependencies_point_back_to_other_signers() {
        let chain = chain(5, 2);
        let load = sign_on(&chain, 2, 400);
        assert_eq!(load.len(), 400);
        let mut nonces: HashMap<usize, u64> = HashMap::new();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for (place, l) in load.iter().enumerate() {
            let next = nonces.entry(l.signer).or_insert(1);
            assert_eq!(l.nonce, *next);
            assert_eq!(l.tx.tx.nonce, l.nonce);
            *next += 1;
            *kinds.entry(l.kind).or_insert(0) += 1;
            let key = if l.signer < 5 {
                &chain.parties[l.signer].key
            } else {
                &chain.staff[l.signer - 5].key
            };
            assert_eq!(l.tx.tx.signer, key.public_key());
            l.tx.verify_signature(&chain.genesis.chain_id())
                .expect("signed");
            let act = Act::decode(&l.tx.tx.payload).expect("an act");
            assert_eq!(act.kind().name(), l.kind);
            // Exactly the acts that answer another signer's act wait for it.
            let answers = matches!(
                act,
                Act::ReviewFiling(_) | Act::AcknowledgeService(_) | Act::SignTranscript(_)
            );
            // A review waits for its filing unless the staff member reviewed before.
            if let Some(after) = l.after {
                assert!(answers, "{} waits", l.kind);
                assert!(after < place);
                assert_ne!(load[after].signer, l.signer);
                let expected = match act {
                    Act::ReviewFiling(_) => "file_case",
                    Act::AcknowledgeService(_) => "serve_document",
                    _ => "record_transcript",
                };
                assert_eq!(load[after].kind, expected);
                match &act {
                    Act::ReviewFiling(a) => assert_eq!(a.case, load[after].tx.id()),
                    Act::AcknowledgeService(a) => assert_eq!(a.service, load[after].tx.id()),
                    Act::SignTranscript(a) => assert_eq!(a.transcript, load[after].tx.id()),
                    _ => unreachable!(),
                }
            } else {
                assert!(!answers, "{} does not wait", l.kind);
            }
        }
        // Every kind of the lifecycle is there; four of the party's acts per case, five of
        // the staff's.
        for kind in [
            "file_case",
            "submit_evidence",
            "post_message",
            "review_filing",
            "serve_document",
            "schedule_hearing",
            "hold_hearing",
            "record_transcript",
            "acknowledge_service",
            "sign_transcript",
        ] {
            assert!(
                kinds.get(kind).copied().unwrap_or(0) > 0,
                "{kind}: {kinds:?}"
            );
        }
        // Staff k handles parties p ≡ k (mod 2).
        for l in load.iter().filter(|l| l.kind == "review_filing") {
            let filer = load[l.after.expect("waits")].signer;
            assert_eq!(l.signer - 5, filer % 2);
        }
        let distinct: HashSet<&str> = load.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(distinct.len(), load.len());
        // Bad casts and lags are refused.
        let cast = Cast {
            parties: &chain.parties,
            staff: &[],
            court: &chain.court,
        };
        assert!(sign(chain.genesis.chain_id(), &cast, 2, 10, 0, [0; 32]).is_err());
        for lag in [0, 1, 3] {
            let cast = Cast {
                parties: &chain.parties,
                staff: &chain.staff,
                court: &chain.court,
            };
            assert!(sign(chain.genesis.chain_id(), &cast, lag, 10, 0, [0; 32]).is_err());
        }
    }

    /// Executes `load` block after block as the load generator submits it: a transaction goes
    /// into a block once what it waits for is in an earlier block and its signer's earlier
    /// transactions are in (this or an earlier block). Returns each receipt code by kind.
    fn execute_in_waves(chain: &mut Chain, load: &[Load]) -> BTreeMap<(&'static str, u16), usize> {
        let ctx = ChainContext::from_genesis(&chain.genesis, &chain.app);
        let mut block_of: Vec<Option<u64>> = vec![None; load.len()];
        let mut codes = BTreeMap::new();
        let mut height = 1;
        while block_of.iter().any(Option::is_none) {
            height += 1;
            let mut blocked: HashSet<usize> = HashSet::new();
            let mut places = Vec::new();
            for (place, l) in load.iter().enumerate() {
                if block_of[place].is_some() || blocked.contains(&l.signer) {
                    continue;
                }
                let ready = l
                    .after
                    .is_none_or(|after| block_of[after].is_some_and(|h| h < height));
                if ready {
                    places.push(place);
                } else {
                    blocked.insert(l.signer);
                }
            }
            assert!(!places.is_empty(), "no progress at height {height}");
            let txs: Vec<SignedTransaction> = places.iter().map(|p| load[*p].tx.clone()).collect();
            chain.time += 1_000;
            let block =
                execute_block(&ctx, &chain.state, &txs, height, chain.time).expect("a block");
            for (receipt, place) in block.receipts.iter().zip(&places) {
                *codes.entry((load[*place].kind, receipt.code)).or_insert(0) += 1;
                block_of[*place] = Some(height);
            }
            chain.state.apply(&block.changes);
        }
        codes
    }

    #[test]
    fn every_act_succeeds_when_each_waits_for_what_it_answers() {
        let mut chain = chain(6, 2);
        let load = sign_on(&chain, 2, 6 * 4 * 6 + 6 * 5 * 4);
        let codes = execute_in_waves(&mut chain, &load);
        for ((kind, code), n) in &codes {
            assert_eq!(*code, 0, "{n} {kind} failed: {}", Code::describe(*code));
        }
        let kinds: HashSet<&str> = codes.keys().map(|(kind, _)| *kind).collect();
        assert!(kinds.contains("acknowledge_service") && kinds.contains("sign_transcript"));
        assert_eq!(kinds.len(), 10, "{kinds:?}");
    }

    #[test]
    fn the_answers_fail_if_they_do_not_wait() {
        // Everything in one block, in load order but with the staff's acts last: the reviews,
        // receipts and signatures come before what they answer.
        let chain = chain(4, 1);
        let load = sign_on(&chain, 2, 4 * 4 * 4 + 4 * 5 * 2);
        let ctx = ChainContext::from_genesis(&chain.genesis, &chain.app);
        let mut order: Vec<&Load> = load.iter().filter(|l| l.signer < 4).collect();
        order.extend(load.iter().filter(|l| l.signer >= 4));
        let txs: Vec<SignedTransaction> = order.iter().map(|l| l.tx.clone()).collect();
        let block = execute_block(&ctx, &chain.state, &txs, 2, chain.time + 1_000).expect("block");
        let failed: HashSet<&str> = block
            .receipts
            .iter()
            .zip(&order)
            .filter(|(receipt, _)| receipt.code != 0)
            .map(|(_, l)| l.kind)
            .collect();
        assert!(failed.contains("acknowledge_service"), "{failed:?}");
        assert!(failed.contains("sign_transcript"), "{failed:?}");
    }
}
