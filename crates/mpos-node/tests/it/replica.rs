//! Another node's ledger replicated into this one: verified, folded into the projections,
//! and refused whole when anything in it was altered.

use mpos_domain::ids::{LineId, OrderId, PaymentId};
use mpos_domain::order::{Command, Status, Tender};
use mpos_ledger::{EntryRef, Hlc, NodeCertificate, NodeKey};
use mpos_node::pos::{
    FromPeer, PeerBatch, PosService, ReplicaRefusal, TrustCommand, VerifiedApart, Verifier,
    batches_after,
};
use mpos_node::{DataDir, Ledger, NodeError};
use mpos_store::{LedgerStore, PosStore};
use mpos_store_sqlite::SqliteStore;

use crate::orders::{CASHIER, OWNER, eur, open_cmd, req, staffed};

/// Everything of `from`'s own ledger after `after` entries, as a peer would send it.
pub fn lacking(from: &PosService<SqliteStore>, after: u64) -> Vec<PeerBatch> {
    let key = from.ledger().key().public();
    batches_after(from.ledger().store(), &key, after, usize::MAX).unwrap()
}

fn add(line: u128) -> Command {
    Command::AddLine {
        line: LineId(line),
        item: crate::orders::item(1_000),
        seat: None,
        course: 1,
        note: String::new(),
    }
}

/// Order 7 opened on `a` by the cashier, then two lines added, each its own request.
fn order_of_two_lines(a: &mut PosService<SqliteStore>) {
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    a.execute_one(req(2, 7, add(1), CASHIER), 2_000).unwrap();
    a.execute_one(req(3, 7, add(2), CASHIER), 2_500).unwrap();
}

/// A node that joined the organization whose root key is `root`, as `mpos pair join` leaves
/// it: a key, and the certificate the root key issued for it.
pub fn member(dir: &std::path::Path, root: &NodeKey, name: &str) -> PosService<SqliteStore> {
    let mut data = DataDir::create_for_joining(dir).unwrap();
    let certificate = NodeCertificate::issue(root, data.key().public(), name, 1).unwrap();
    data.join(certificate).unwrap();
    let store = data.store().unwrap();
    PosService::new(Ledger::open(store, data.into_identity()).unwrap())
}

/// The organization's root key, as the node it was founded on holds it.
pub fn root_of(founder: &PosService<SqliteStore>) -> NodeKey {
    let root = founder.ledger().identity().root_key().unwrap();
    NodeKey::from_secret(&root.secret_bytes())
}

/// Node A with its staff (the organization was founded on it), and node B, empty, paired
/// into A's organization; with their data directories.
fn two_nodes() -> (
    PosService<SqliteStore>,
    PosService<SqliteStore>,
    [tempfile::TempDir; 2],
) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let a = staffed(dirs[0].path());
    let b = member(dirs[1].path(), &root_of(&a), "B");
    (a, b, dirs)
}

/// `two_nodes`, A having set up the café's menu and B having taken it from A.
fn two_cafes() -> (
    PosService<SqliteStore>,
    PosService<SqliteStore>,
    [tempfile::TempDir; 2],
) {
    let (mut a, mut b, dirs) = two_nodes();
    for (i, cmd) in crate::menu::cafe().into_iter().enumerate() {
        a.execute_one(crate::menu::menu(500 + i as u128, cmd), 1_000)
            .unwrap();
    }
    b.replicate(FromPeer::batches(lacking(&a, 0)), 1_100)
        .unwrap();
    (a, b, dirs)
}

/// The café's flat white (item 1) 86'd, or put back on.
fn flat_white(id: u128, available: bool) -> mpos_node::pos::Request {
    crate::menu::menu(
        id,
        mpos_domain::menu::MenuCommand::SetAvailable {
            item: mpos_domain::ids::ItemId(1),
            available,
        },
    )
}

#[test]
fn a_node_takes_another_nodes_sales_and_they_converge_both_ways() {
    let (mut a, mut b, _dirs) = two_nodes();
    let a_node = a.ledger().node_id();
    order_of_two_lines(&mut a);

    let sent = lacking(&a, 0);
    assert_eq!(
        sent.len(),
        4,
        "the staff set-up's batch, then one per request"
    );
    let done = b.replicate(FromPeer::batches(sent.clone()), 3_000).unwrap();
    assert_eq!((done.entries, done.held), (a.ledger().head().size(), 0));
    let store = b.ledger().store();
    assert_eq!(
        store.chain_head(a_node).unwrap().as_ref(),
        Some(a.ledger().head())
    );
    assert_eq!(b.order(OrderId(7)).unwrap(), a.order(OrderId(7)).unwrap());
    assert_eq!(store.staff().unwrap(), a.ledger().store().staff().unwrap());
    assert_eq!(store.open_orders(None).unwrap().len(), 1);

    // The same message again (a duplicate, a replay): nothing changes.
    let again = b.replicate(FromPeer::batches(sent), 3_100).unwrap();
    assert_eq!((again.entries, again.held), (0, 4));

    // B takes the payment of A's order; its entry is later than everything it saw of A.
    let paid = b
        .execute_one(
            req(
                10,
                7,
                Command::TakePayment {
                    drawer: None,
                    payment: PaymentId(1),
                    tender: Tender::Cash,
                    amount: eur(2_000),
                    tip: eur(0),
                    cash_received: None,
                },
                CASHIER,
            ),
            // B's wall clock is behind A's: the hybrid clock still orders B's entry after.
            1_500,
        )
        .unwrap();
    assert_eq!(paid.order.as_ref().unwrap().status, Status::Closed);
    let b_first = b
        .ledger()
        .store()
        .entry(b.ledger().node_id(), 1)
        .unwrap()
        .unwrap();
    let b_time = EntryRef::decode(&b_first).unwrap().hlc;
    assert!(
        b_time > a.ledger().head().last_hlc(),
        "{b_time} after A's last entry"
    );

    // A takes B's ledger back: both hold the same order, closed.
    let done = a
        .replicate(FromPeer::batches(lacking(&b, 0)), 4_000)
        .unwrap();
    assert_eq!(done.entries, b.ledger().head().size());
    assert_eq!(a.order(OrderId(7)).unwrap(), b.order(OrderId(7)).unwrap());
    assert!(a.ledger().store().open_orders(None).unwrap().is_empty());
    // And A's own next entry still follows its chain.
    a.execute_one(req(20, 8, open_cmd(), CASHIER), 5_000)
        .unwrap();
    assert!(a.ledger().head().last_hlc() > Hlc::new(1_500, 0));
}

#[test]
fn altered_reordered_and_forged_batches_are_refused_and_nothing_is_written() {
    let (mut a, mut b, _dirs) = two_nodes();
    let a_node = a.ledger().node_id();
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    a.execute(
        vec![req(2, 7, add(1), CASHIER), req(3, 7, add(2), CASHIER)],
        2_000,
    );
    let sent = lacking(&a, 0);
    let last = sent.len() - 1;
    assert_eq!(sent[last].entries.len(), 2);

    let refused = |b: &mut PosService<SqliteStore>, batches: Vec<PeerBatch>, what: &str| {
        let result = b.replicate(FromPeer::batches(batches), 3_000);
        assert!(
            matches!(result, Err(NodeError::Peer(_))),
            "{what}: {result:?}"
        );
        assert_eq!(
            b.ledger().store().chain_head(a_node).unwrap(),
            None,
            "{what}"
        );
        assert_eq!(b.order(OrderId(7)).unwrap(), None, "{what}");
        assert!(b.ledger().store().staff().unwrap().is_empty(), "{what}");
    };

    // A payload byte changed in the last batch: every batch before it is fine, and still
    // nothing of the message is written.
    let mut altered = sent.clone();
    let bytes = &mut altered[last].entries[0];
    let end = bytes.len() - 1;
    bytes[end] ^= 0x01;
    refused(&mut b, altered, "altered");

    let mut reordered = sent.clone();
    reordered[last].entries.swap(0, 1);
    refused(&mut b, reordered, "reordered entries");

    let mut skipped = sent.clone();
    skipped.remove(1);
    refused(&mut b, skipped, "a batch left out");

    // Entries re-signed by another key under A's name.
    let mut forged = sent.clone();
    let other = mpos_ledger::NodeKey::from_secret(&[7; 32]);
    forged[last].checkpoint = forged[last].checkpoint.checkpoint.sign(&other);
    refused(&mut b, forged, "checkpoint signed by another key");

    // A checkpoint with no entries under it.
    let mut unsigned = sent.clone();
    unsigned[last].entries.clear();
    refused(&mut b, unsigned, "checkpoint without its entries");

    // The honest message still goes through afterwards.
    let done = b.replicate(FromPeer::batches(sent), 3_000).unwrap();
    assert_eq!(done.entries, a.ledger().head().size());
    assert_eq!(b.ledger().head().size(), 0, "B wrote nothing of its own");
    assert_eq!(b.order(OrderId(7)).unwrap(), a.order(OrderId(7)).unwrap());
}

/// A verifier as a pull starts one on `to`, having read the chains of `batches`' nodes.
fn verifier_of(to: &PosService<SqliteStore>, batches: &[PeerBatch]) -> Verifier {
    let store = to.ledger().store();
    let root = to.ledger().identity().organization_root().unwrap();
    let mut v = Verifier::new(store, to.ledger().node_id(), root).unwrap();
    let unknown = v.unknown(batches);
    v.hold(store, &unknown).unwrap();
    v
}

fn verified(apart: VerifiedApart) -> FromPeer {
    FromPeer {
        verified: Some(apart),
        ..FromPeer::default()
    }
}

#[test]
fn batches_verified_beside_the_writer_stand_while_their_chains_do_and_are_verified_again_when_not()
{
    let dirs = [0, 1, 2].map(|_| tempfile::tempdir().unwrap());
    let mut a = staffed(dirs[0].path());
    let mut b = member(dirs[1].path(), &root_of(&a), "B");
    let mut c = member(dirs[2].path(), &root_of(&a), "C");
    let a_node = a.ledger().node_id();
    order_of_two_lines(&mut a);
    let sent = lacking(&a, 0);
    assert_eq!(sent.len(), 4);

    // A pull verifies the next message while the writer has not committed the one before.
    let mut v = verifier_of(&b, &sent);
    let first = v.verify(sent[..2].to_vec()).unwrap();
    // An altered message is refused and leaves the chains where they were.
    let mut altered = sent[2..].to_vec();
    let bytes = &mut altered[0].entries[0];
    let end = bytes.len() - 1;
    bytes[end] ^= 0x01;
    assert!(matches!(v.verify(altered), Err(NodeError::Peer(_))));
    let second = v.verify(sent[2..].to_vec()).unwrap();
    assert_eq!(b.ledger().store().chain_head(a_node).unwrap(), None);
    let mut whole = first;
    whole.extend(second);
    let done = b.replicate(verified(whole), 3_000).unwrap();
    assert_eq!((done.entries, done.held), (a.ledger().head().size(), 0));
    assert_eq!(
        b.ledger().store().chain_head(a_node).unwrap().as_ref(),
        Some(a.ledger().head())
    );
    assert_eq!(b.order(OrderId(7)).unwrap(), a.order(OrderId(7)).unwrap());

    // Another pull wrote the first half of the same chain meanwhile: what was verified
    // from an empty chain no longer follows on from what is stored, so the writer verifies
    // it again and takes only what it lacks.
    let everything = verifier_of(&c, &sent).verify(sent.clone()).unwrap();
    let half: u64 = sent[..2].iter().map(|b| b.entries.len() as u64).sum();
    assert_eq!(
        c.replicate(FromPeer::batches(sent[..2].to_vec()), 3_000)
            .unwrap()
            .entries,
        half
    );
    let done = c.replicate(verified(everything), 3_100).unwrap();
    assert_eq!(
        (done.entries, done.held),
        (a.ledger().head().size() - half, 2)
    );
    assert_eq!(
        c.ledger().store().chain_head(a_node).unwrap().as_ref(),
        Some(a.ledger().head())
    );
    assert_eq!(c.order(OrderId(7)).unwrap(), a.order(OrderId(7)).unwrap());

    // B's own entries, which A took and sends back, are held here, not refused.
    b.execute_one(req(5, 8, open_cmd(), CASHIER), 5_000)
        .unwrap();
    a.replicate(FromPeer::batches(lacking(&b, 0)), 5_100)
        .unwrap();
    let b_node = b.ledger().node_id();
    let b_key = b.ledger().key().public();
    let echoed = batches_after(a.ledger().store(), &b_key, 0, usize::MAX).unwrap();
    let echoes = echoed.len() as u64;
    assert!(echoes > 0);
    let apart = verifier_of(&b, &echoed).verify(echoed).unwrap();
    let done = b.replicate(verified(apart), 5_200).unwrap();
    assert_eq!((done.entries, done.held), (0, echoes));

    // A revocation taken in meanwhile: B's entries past its cut passed a verification
    // that had not heard of it; verified again, they are skipped.
    let cut = b.ledger().head().size();
    let revoke = mpos_node::pos::Request {
        id: 40,
        action: mpos_node::pos::Action::Trust(TrustCommand::Revoke {
            node: b_node,
            reason: "stolen".into(),
        }),
        actor: Some(OWNER),
    };
    a.execute_one(revoke, 6_000).unwrap();
    b.execute_one(req(6, 8, add(4), CASHIER), 6_100).unwrap();
    let of_b = lacking(&b, 0);
    let unaware = verifier_of(&c, &of_b).verify(of_b).unwrap();
    let held_of_a = c
        .ledger()
        .store()
        .chain_head(a_node)
        .unwrap()
        .unwrap()
        .size();
    c.replicate(FromPeer::batches(lacking(&a, held_of_a)), 6_200)
        .unwrap();
    let done = c.replicate(verified(unaware), 6_300).unwrap();
    assert_eq!((done.entries, done.beyond_cut), (cut, 1));
    assert_eq!(
        c.ledger()
            .store()
            .chain_head(b_node)
            .unwrap()
            .map(|h| h.size()),
        Some(cut)
    );
}

fn refusal(result: Result<mpos_node::pos::Replicated, NodeError>) -> ReplicaRefusal {
    match result {
        Err(NodeError::Peer(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_node_of_another_organization_or_none_is_not_heard() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut a = staffed(dirs[0].path());
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    // B founded an organization of its own: A's certificate is not from B's root key.
    let mut b = staffed(dirs[1].path());
    let from_a = lacking(&a, 0);
    assert!(matches!(
        refusal(b.replicate(FromPeer::batches(from_a.clone()), 2_000)),
        ReplicaRefusal::Uncertified { .. }
    ));
    assert_eq!(
        b.ledger().store().chain_head(a.ledger().node_id()).unwrap(),
        None
    );

    // A ledger whose first entry is not its node's certificate: A's batches from the
    // second on, passed off as the start of a ledger of a key A's root never certified.
    let c_dir = tempfile::tempdir().unwrap();
    let mut c = member(c_dir.path(), &root_of(&a), "C");
    let stranger = NodeKey::from_secret(&[0x44; 32]);
    let mut chain = mpos_ledger::ChainHead::genesis(stranger.node_id());
    let entry = chain
        .append(
            Hlc::new(1_000, 0),
            mpos_proto::event::SCHEMA,
            b"not a certificate",
        )
        .unwrap();
    let checkpoint = chain.checkpoint(&stranger).unwrap();
    let uncertified = PeerBatch {
        key: stranger.public(),
        entries: vec![entry.bytes],
        checkpoint,
    };
    let refused = c.replicate(FromPeer::batches(vec![uncertified]), 2_000);
    assert!(matches!(
        refusal(refused),
        ReplicaRefusal::Uncertified { .. }
    ));

    // A node without an organization takes nobody's entries.
    let d_dir = tempfile::tempdir().unwrap();
    let d_data = DataDir::create_for_joining(d_dir.path()).unwrap();
    let store = d_data.store().unwrap();
    let mut d = PosService::new(Ledger::open(store, d_data.into_identity()).unwrap());
    assert!(matches!(
        refusal(d.replicate(FromPeer::batches(from_a.clone()), 2_000)),
        ReplicaRefusal::NoOrganization
    ));
    // C, of A's organization, takes A's ledger.
    assert_eq!(
        c.replicate(FromPeer::batches(from_a), 2_000)
            .unwrap()
            .entries,
        a.ledger().head().size()
    );
}

#[test]
fn a_revoked_node_keeps_what_was_held_of_it_and_nothing_later_is_taken() {
    let (mut a, mut b, _dirs) = two_nodes();
    let b_node = b.ledger().node_id();
    // A (the root key's node) pairs B's key on record, then B sells and A takes it.
    b.replicate(FromPeer::batches(lacking(&a, 0)), 1_000)
        .unwrap();
    b.execute_one(req(1, 7, open_cmd(), CASHIER), 2_000)
        .unwrap();
    a.replicate(FromPeer::batches(lacking(&b, 0)), 2_500)
        .unwrap();
    let held = b.ledger().head().size();
    let pair_again = mpos_node::pos::Request {
        id: 29,
        action: mpos_node::pos::Action::Trust(TrustCommand::Pair {
            key: b.ledger().key().public(),
            name: "B again".into(),
        }),
        actor: Some(OWNER),
    };
    let twice = a.execute_one(pair_again, 2_600);
    assert!(
        matches!(&twice, Err(NodeError::BadRequest(m)) if m.contains("paired already")),
        "{twice:?}"
    );

    // Only an owner may revoke, with a reason, and only on the root key's node.
    let revoke = |id: u128, reason: &str| mpos_node::pos::Request {
        id,
        action: mpos_node::pos::Action::Trust(TrustCommand::Revoke {
            node: b_node,
            reason: reason.into(),
        }),
        actor: Some(OWNER),
    };
    let as_cashier = mpos_node::pos::Request {
        actor: Some(CASHIER),
        ..revoke(30, "stolen")
    };
    assert!(a.execute_one(as_cashier, 3_000).is_err());
    assert!(a.execute_one(revoke(31, "  "), 3_000).is_err());
    assert!(
        b.execute_one(revoke(32, "stolen"), 3_000).is_err(),
        "B holds no root key"
    );
    a.execute_one(revoke(33, "stolen"), 3_000).unwrap();
    let revoked = a.ledger().store().revocations().unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!((revoked[0].node, revoked[0].after), (b_node, held));
    assert!(
        a.execute_one(revoke(34, "again"), 3_100).is_err(),
        "revoked once"
    );

    // B sells on; A skips its new batches.
    b.execute_one(req(2, 8, open_cmd(), CASHIER), 4_000)
        .unwrap();
    let skipped = a
        .replicate(FromPeer::batches(lacking(&b, held)), 4_500)
        .unwrap();
    assert_eq!((skipped.entries, skipped.beyond_cut), (0, 1));
    assert_eq!(
        a.ledger()
            .store()
            .chain_head(b_node)
            .unwrap()
            .unwrap()
            .size(),
        held
    );
    assert_eq!(a.order(OrderId(8)).unwrap(), None);

    // A third node learns of the revocation from A's ledger and skips B's new entries
    // even when they come in the same message, after it; what came before the cut stands.
    let c_dir = tempfile::tempdir().unwrap();
    let mut c = member(c_dir.path(), &root_of(&a), "C");
    let mut everything = lacking(&a, 0);
    everything.extend(lacking(&b, 0));
    let done = c.replicate(FromPeer::batches(everything), 5_000).unwrap();
    assert_eq!(done.beyond_cut, 1);
    assert_eq!(
        c.ledger()
            .store()
            .chain_head(b_node)
            .unwrap()
            .unwrap()
            .size(),
        held
    );
    assert!(c.order(OrderId(7)).unwrap().is_some());
    assert_eq!(c.order(OrderId(8)).unwrap(), None);
}

#[test]
fn a_revocation_or_certificate_not_signed_by_the_root_key_is_refused() {
    let (mut a, b, _dirs) = two_nodes();
    // B forges a revocation of A with a key of its own, and a certificate for a stranger.
    let impostor = NodeKey::from_secret(&[0x55; 32]);
    let forged = [
        mpos_domain::event::TrustChange::NodeRevoked {
            revocation: mpos_ledger::Revocation::issue(&impostor, a.ledger().node_id(), 0, 1)
                .to_bytes()
                .to_vec(),
            reason: "forged".into(),
        },
        mpos_domain::event::TrustChange::NodeCertified {
            certificate: NodeCertificate::issue(&impostor, impostor.public(), "X", 1)
                .unwrap()
                .to_bytes(),
        },
    ];
    for change in forged {
        // Written straight into B's ledger, as a compromised terminal could.
        let before = b.ledger().head().size();
        let event = mpos_domain::Event::Trust(mpos_domain::event::TrustEvent {
            by: None,
            at: 1,
            change,
        });
        let payload = mpos_proto::event::encode(&event);
        let mut head = b.ledger().head().clone();
        let mut entries = Vec::new();
        if before == 0 {
            let cert = b.ledger().identity().certificate().unwrap();
            let intro = mpos_proto::event::encode(&mpos_domain::Event::Trust(
                mpos_domain::event::TrustEvent {
                    by: None,
                    at: 1,
                    change: mpos_domain::event::TrustChange::NodeCertified {
                        certificate: cert.to_bytes(),
                    },
                },
            ));
            entries.push(head.append(Hlc::new(1_000, 0), 1, &intro).unwrap());
        }
        entries.push(head.append(Hlc::new(1_001, 0), 1, &payload).unwrap());
        let checkpoint = head.checkpoint(b.ledger().key()).unwrap();
        let batch = PeerBatch {
            key: b.ledger().key().public(),
            entries: entries.into_iter().map(|e| e.bytes).collect(),
            checkpoint,
        };
        let refused = a.replicate(FromPeer::batches(vec![batch]), 2_000);
        assert!(
            matches!(refusal(refused), ReplicaRefusal::Event { .. }),
            "a forged trust event"
        );
        assert!(a.ledger().store().revocations().unwrap().is_empty());
    }
}

#[test]
fn each_node_countersigns_what_it_took_and_the_writer_keeps_only_true_countersignatures() {
    let (mut a, mut b, _dirs) = two_nodes();
    let (a_node, b_node) = (a.ledger().node_id(), b.ledger().node_id());
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    // B introduces itself (a node that only takes others' sales is known all the same).
    b.introduce(1_500).unwrap();
    b.introduce(1_600).unwrap();
    assert_eq!(b.ledger().head().size(), 1, "introduced once");
    a.replicate(FromPeer::batches(lacking(&b, 0)), 1_700)
        .unwrap();

    let done = b
        .replicate(FromPeer::batches(lacking(&a, 0)), 2_000)
        .unwrap();
    let latest = a.ledger().head().size();
    assert_eq!(done.witnessed.len(), 1);
    let w = done.witnessed[0];
    assert_eq!(
        (w.node, w.tree_size, w.signature.witness),
        (a_node, latest, b_node)
    );
    // B keeps its own countersignature beside A's checkpoint.
    let mut kept_at_b = Vec::new();
    b.ledger()
        .store()
        .stream_ledger(a_node, &mut |item| {
            if let mpos_store::LedgerItem::Checkpoint(cp, ws) = item {
                kept_at_b.push((cp.checkpoint.tree_size, ws));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(kept_at_b.last().unwrap(), &(latest, vec![w.signature]));

    // Handed to A, they are kept there too, and A's export says B witnessed it.
    let a_latest = a.ledger().latest_checkpoint().unwrap().unwrap();
    let a_first = lacking(&a, 0)[0].checkpoint.checkpoint.tree_size;
    assert!(a_first < latest);
    let forged = |mut w: mpos_node::pos::Witnessed, what: &str| {
        match what {
            "stranger" => {
                let stranger = NodeKey::from_secret(&[0x66; 32]);
                w.signature = a_latest.witness(&stranger);
            }
            "other checkpoint" => w.tree_size = a_first,
            _ => w.signature.signature[0] ^= 1,
        }
        w
    };
    for what in ["stranger", "other checkpoint", "altered"] {
        let bad = forged(w, what);
        let result = a.replicate(
            FromPeer {
                witnesses: vec![w, bad],
                ..FromPeer::default()
            },
            3_000,
        );
        assert!(
            matches!(result, Err(NodeError::Peer(_))),
            "{what}: {result:?}"
        );
    }
    let kept = a
        .replicate(
            FromPeer {
                witnesses: vec![w],
                ..FromPeer::default()
            },
            3_000,
        )
        .unwrap();
    assert_eq!(kept.witnesses_kept, 1);
    let (file, _) = a.ledger().export(Vec::new()).unwrap();
    let summary =
        mpos_ledger::verify(file.as_slice(), &mpos_ledger::VerifyOptions::default()).unwrap();
    let a_summary = summary.nodes.iter().find(|n| n.node == a_node).unwrap();
    assert_eq!(a_summary.witnessed_up_to, latest);
    assert!(a_summary.witnessed_by.contains_key(&b_node));
}

#[test]
fn a_receipt_code_signed_where_the_order_closed_is_kept_only_if_it_is_that_entrys() {
    let (mut a, mut b, _dirs) = two_nodes();
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    a.execute_one(req(2, 7, add(1), CASHIER), 1_100).unwrap();
    let pay = |id: u128, order: u128| {
        req(
            id,
            order,
            Command::TakePayment {
                drawer: None,
                payment: PaymentId(id),
                tender: Tender::Card {
                    reference: "AUTH".into(),
                },
                amount: eur(1_000),
                tip: eur(0),
                cash_received: None,
            },
            CASHIER,
        )
    };
    a.execute_one(pay(3, 7), 1_200).unwrap();
    a.execute_one(req(4, 8, open_cmd(), CASHIER), 1_300)
        .unwrap();
    let code = a
        .ledger()
        .store()
        .receipt_code(OrderId(7))
        .unwrap()
        .unwrap();
    // Ahead of the entry it signs: left for later, not refused.
    let early = b
        .replicate(
            FromPeer {
                receipts: vec![(OrderId(7), code.clone())],
                ..FromPeer::default()
            },
            1_900,
        )
        .unwrap();
    assert_eq!(early.receipts_kept, 0);
    let done = b
        .replicate(FromPeer::batches(lacking(&a, 0)), 2_000)
        .unwrap();
    assert_eq!(done.closed, vec![OrderId(7)], "order 8 is still open");
    assert_eq!(b.ledger().store().receipt_code(OrderId(7)).unwrap(), None);

    // Forged or misplaced: refused, nothing kept.
    let mut altered = code.clone();
    altered.pop();
    altered.push(if code.ends_with('A') { 'B' } else { 'A' });
    for (order, wrong) in [(OrderId(7), altered), (OrderId(8), code.clone())] {
        let refused = b.replicate(
            FromPeer {
                receipts: vec![(order, wrong)],
                ..FromPeer::default()
            },
            2_100,
        );
        assert!(matches!(refused, Err(NodeError::Peer(_))), "{refused:?}");
    }
    assert_eq!(b.ledger().store().receipt_code(OrderId(7)).unwrap(), None);

    let kept = b
        .replicate(
            FromPeer {
                receipts: vec![(OrderId(7), code.clone())],
                ..FromPeer::default()
            },
            2_200,
        )
        .unwrap();
    assert_eq!(kept.receipts_kept, 1);
    assert_eq!(
        b.ledger().store().receipt_code(OrderId(7)).unwrap(),
        Some(code)
    );
}

#[test]
fn a_peers_pin_hash_is_taken_only_for_a_pin_change_a_ledger_here_records() {
    let (mut a, mut b, _dirs) = two_nodes();
    let set_pin = mpos_node::pos::Request {
        id: 50,
        action: mpos_node::pos::Action::Staff(mpos_domain::staff::StaffCommand::SetPin {
            staff: CASHIER.staff,
            pin: "2468".into(),
        }),
        actor: Some(OWNER),
    };
    a.execute_one(set_pin, 1_000).unwrap();
    let hashes = a.ledger().store().pin_hashes().unwrap();
    assert_eq!(hashes.len(), 1);
    let genuine = hashes[0].clone();
    // Before B holds the entry that records the change, the hash waits.
    b.replicate(
        FromPeer {
            pins: vec![genuine.clone()],
            ..FromPeer::default()
        },
        1_500,
    )
    .unwrap();
    assert_eq!(b.ledger().store().pin_hash(CASHIER.staff).unwrap(), None);
    let done = b
        .replicate(FromPeer::batches(lacking(&a, 0)), 2_000)
        .unwrap();
    assert!(done.pins_changed);
    // A hash of the owner's PIN no change vouches for, dated far ahead to win every
    // comparison, and the genuine hash passed off as another member's: neither is taken.
    let forged = [
        mpos_store::PinHash {
            staff: OWNER.staff,
            hash: genuine.hash.clone(),
            changed_at: u64::MAX >> 1,
        },
        mpos_store::PinHash {
            staff: OWNER.staff,
            ..genuine.clone()
        },
    ];
    b.replicate(
        FromPeer {
            pins: forged.to_vec(),
            ..FromPeer::default()
        },
        2_100,
    )
    .unwrap();
    assert_eq!(b.ledger().store().pin_hash(OWNER.staff).unwrap(), None);
    b.replicate(
        FromPeer {
            pins: vec![genuine.clone()],
            ..FromPeer::default()
        },
        2_200,
    )
    .unwrap();
    assert_eq!(
        b.ledger().store().pin_hash(CASHIER.staff).unwrap(),
        Some(genuine.hash)
    );
}

#[test]
fn an_item_86d_on_one_register_and_sold_on_another_apart_is_flagged_on_every_node() {
    use crate::menu::{add_item, open};
    use mpos_domain::order::Conflict;
    let (mut a, mut b, _dirs) = two_cafes();
    let menu_held = a.ledger().head().size();
    let flat_white_86d = vec![Conflict::SoldWhile86d {
        item: "Flat white".into(),
    }];

    // Apart: A 86's the flat white and refuses to sell one; B, not knowing, sells one.
    a.execute_one(flat_white(600, false), 2_000).unwrap();
    let after_86 = a.ledger().head().size();
    a.execute_one(open(601, 10), 2_100).unwrap();
    let refused = a.execute_one(add_item(602, 10, 1, 1, &[1]), 2_200);
    assert!(refused.is_err(), "{refused:?}");
    b.execute_one(open(700, 20), 3_000).unwrap();
    b.execute_one(add_item(701, 20, 1, 1, &[1]), 3_100).unwrap();
    assert!(
        b.order(OrderId(20))
            .unwrap()
            .unwrap()
            .conflicts()
            .is_empty()
    );

    // B hears of the 86: its own sale is flagged. A hears of the sale: flagged there too.
    let done = b
        .replicate(FromPeer::batches(lacking(&a, menu_held)), 4_000)
        .unwrap();
    assert_eq!(done.conflicts_flagged, 1);
    assert_eq!(
        b.order(OrderId(20)).unwrap().unwrap().conflicts(),
        flat_white_86d
    );
    let done = a
        .replicate(FromPeer::batches(lacking(&b, 0)), 4_100)
        .unwrap();
    assert_eq!(done.conflicts_flagged, 1);
    assert_eq!(
        a.order(OrderId(20)).unwrap().unwrap().conflicts(),
        flat_white_86d
    );
    assert_eq!(
        mpos_node::digest::state_digest(a.ledger().store()).unwrap(),
        mpos_node::digest::state_digest(b.ledger().store()).unwrap()
    );

    // A third node that takes the sale first, and then the 86, flags it too; an earlier
    // "back on" arriving last clears it. A sale after the item is back is never flagged.
    let c_dir = tempfile::tempdir().unwrap();
    let mut c = member(c_dir.path(), &root_of(&a), "C");
    let a_all = lacking(&a, 0);
    let until_86: Vec<PeerBatch> = a_all
        .iter()
        .filter(|x| x.checkpoint.checkpoint.tree_size <= after_86)
        .cloned()
        .collect();
    c.replicate(
        FromPeer::batches(until_86[..until_86.len() - 1].to_vec()),
        5_000,
    )
    .unwrap();
    c.replicate(FromPeer::batches(lacking(&b, 0)), 5_000)
        .unwrap();
    assert!(
        c.order(OrderId(20))
            .unwrap()
            .unwrap()
            .conflicts()
            .is_empty()
    );
    let done = c.replicate(FromPeer::batches(until_86), 5_100).unwrap();
    assert_eq!(done.conflicts_flagged, 1);
    assert_eq!(
        c.order(OrderId(20)).unwrap().unwrap().conflicts(),
        flat_white_86d
    );
    c.replicate(FromPeer::batches(a_all), 5_200).unwrap();
    assert_eq!(
        mpos_node::digest::state_digest(a.ledger().store()).unwrap(),
        mpos_node::digest::state_digest(c.ledger().store()).unwrap()
    );

    // A manager voids the line: nothing left to look at.
    let void = req(
        800,
        20,
        Command::VoidLine {
            line: LineId(1),
            reason: "86'd: nothing to make it with".into(),
        },
        crate::orders::MANAGER,
    );
    b.execute_one(void, 6_000).unwrap();
    assert!(
        b.order(OrderId(20))
            .unwrap()
            .unwrap()
            .conflicts()
            .is_empty()
    );
}

#[test]
fn an_earlier_back_on_arriving_last_clears_the_flag() {
    use crate::menu::{add_item, open};
    let (mut a, mut b, _dirs) = two_cafes();
    // A 86's the flat white and puts it back; B sells one after both, not knowing of either.
    let menu_held = a.ledger().head().size();
    a.execute_one(flat_white(600, false), 2_000).unwrap();
    let after_86 = a.ledger().head().size();
    a.execute_one(flat_white(601, true), 2_500).unwrap();
    b.execute_one(open(700, 20), 3_000).unwrap();
    b.execute_one(add_item(701, 20, 1, 1, &[1]), 3_100).unwrap();

    let from_a = lacking(&a, menu_held);
    let (the_86, back_on): (Vec<PeerBatch>, Vec<PeerBatch>) = from_a
        .into_iter()
        .partition(|x| x.checkpoint.checkpoint.tree_size <= after_86);
    b.replicate(FromPeer::batches(the_86), 4_000).unwrap();
    assert_eq!(
        b.order(OrderId(20)).unwrap().unwrap().conflicts().len(),
        1,
        "as far as B knows, it sold an 86'd item"
    );
    b.replicate(FromPeer::batches(back_on), 4_100).unwrap();
    assert!(
        b.order(OrderId(20))
            .unwrap()
            .unwrap()
            .conflicts()
            .is_empty(),
        "it was back on by then"
    );
    a.replicate(FromPeer::batches(lacking(&b, 0)), 4_200)
        .unwrap();
    assert!(
        a.order(OrderId(20))
            .unwrap()
            .unwrap()
            .conflicts()
            .is_empty()
    );
    assert_eq!(
        mpos_node::digest::state_digest(a.ledger().store()).unwrap(),
        mpos_node::digest::state_digest(b.ledger().store()).unwrap()
    );
}

/// The central kitchen sends flour to the harbour, whose register records its arrival;
/// the office takes the harbour's ledger before the kitchen's. The arrival waits for the
/// sending, and the office ends with the harbour's stock and history, values included.
#[test]
fn a_transfer_arriving_at_a_third_node_before_its_sending_is_taken_in_with_it() {
    use mpos_domain::ids::{LocationId, StockItemId, TransferId};
    use mpos_domain::inventory::{InventoryCommand, Location, Quantity, StockItem, Unit};
    use mpos_node::pos::{Action, Request};
    use mpos_store::InventoryStore;

    let dirs = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let mut kitchen = staffed(dirs[0].path());
    let root = root_of(&kitchen);
    let mut harbour = member(dirs[1].path(), &root, "Harbour");
    let mut office = member(dirs[2].path(), &root, "Office");
    let (central, port, flour) = (LocationId(1), LocationId(2), StockItemId(3));
    let kg = |text: &str| Quantity::parse(&format!("{text} kg")).unwrap();
    let stock = |id: u128, command: InventoryCommand| Request {
        id,
        action: Action::Inventory(command),
        actor: Some(crate::orders::MANAGER),
    };
    let set_up = [
        InventoryCommand::PutLocation(Location {
            id: central,
            name: "Central kitchen".into(),
            active: true,
        }),
        InventoryCommand::PutLocation(Location {
            id: port,
            name: "Harbour".into(),
            active: true,
        }),
        InventoryCommand::PutStockItem(StockItem {
            id: flour,
            name: "Flour".into(),
            unit: Unit::Kilogram,
            active: true,
        }),
        InventoryCommand::Receive {
            location: central,
            item: flour,
            quantity: kg("10"),
            cost: eur(2_000),
            supplier: None,
            lot: String::new(),
            purchase_order: None,
        },
        InventoryCommand::SendTransfer {
            transfer: TransferId(9),
            from: central,
            to: port,
            lines: vec![(flour, kg("4"))],
        },
    ];
    // The restaurant's settings (its currency) first.
    for (i, cmd) in crate::menu::cafe().into_iter().enumerate() {
        kitchen
            .execute_one(crate::menu::menu(50 + i as u128, cmd), 500)
            .unwrap();
    }
    for (n, command) in set_up.into_iter().enumerate() {
        kitchen
            .execute_one(stock(100 + n as u128, command), 1_000 + n as u64)
            .unwrap();
    }
    harbour
        .replicate(FromPeer::batches(lacking(&kitchen, 0)), 2_000)
        .unwrap();
    let arrival = InventoryCommand::ReceiveTransfer {
        transfer: TransferId(9),
        lines: vec![(flour, kg("3.5"))],
        note: "a bag split on the way".into(),
    };
    harbour.execute_one(stock(200, arrival), 3_000).unwrap();

    // The office hears the harbour first: the arrival waits for its sending.
    office
        .replicate(FromPeer::batches(lacking(&harbour, 0)), 4_000)
        .unwrap();
    assert_eq!(office.ledger().store().stock_levels(None).unwrap(), vec![]);
    office
        .replicate(FromPeer::batches(lacking(&kitchen, 0)), 5_000)
        .unwrap();
    let (seen, held) = (harbour.ledger().store(), office.ledger().store());
    let levels = seen.stock_levels(None).unwrap();
    assert_eq!(levels.len(), 2);
    // 3.5 kg of flour worth 3.5/4 of the €8 sent.
    assert_eq!(
        seen.stock_level(port, flour).unwrap(),
        mpos_domain::inventory::StockValue {
            milli: 3_500_000,
            value: 700,
        }
    );
    assert_eq!(held.stock_levels(None).unwrap(), levels);
    assert_eq!(
        held.transfer(TransferId(9)).unwrap(),
        seen.transfer(TransferId(9)).unwrap()
    );
    assert!(held.transfers_in_transit().unwrap().is_empty());
    assert_eq!(
        held.stock_usage(0, u64::MAX / 2).unwrap(),
        seen.stock_usage(0, u64::MAX / 2).unwrap()
    );
}
