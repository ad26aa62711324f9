// The back office's Registers: the organization's nodes (registers, restaurants' servers,
// a cloud node), where each sells, how much of its ledger this node holds and when it was
// last heard from; an owner on the node holding the organization's key pairs a new
// register with a one-time code and revokes a lost one.
import { useEffect, useRef, useState } from "preact/hooks";
import { Role } from "../gen/mpos/v1/events_pb";
import type { InviteNodeReply, ListNodesReply, NodeView } from "../gen/mpos/v1/pos_pb";
import { pos } from "./api";
import { Dialog } from "./dialog";
import { hex, newId, sameId } from "./ids";
import { ago } from "./nodes";
import type { OfficeProps } from "./office";

export function Registers({ session, fail }: OfficeProps) {
  const [list, setList] = useState<ListNodesReply | null>(null);
  const [now, setNow] = useState(Date.now());
  const [pairing, setPairing] = useState(false);
  const [revoking, setRevoking] = useState<NodeView | null>(null);
  const load = () =>
    pos
      .listNodes({})
      .then((r) => {
        setList(r);
        setNow(Date.now());
      })
      .catch(fail);
  useEffect(() => {
    void load();
    // Keeps "last heard" fresh while the page is open.
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, []);
  if (!list) return <section class="office-section" aria-label="Registers" aria-busy="true" />;
  const owner = session.role === Role.OWNER;
  const mayPair = owner && list.holdsRootKey;
  return (
    <section class="office-section" aria-label="Registers">
      <header class="section-head">
        <h1>Registers</h1>
        {mayPair && (
          <button class="primary" onClick={() => setPairing(true)}>
            Pair a register
          </button>
        )}
      </header>
      <p class="muted">
        Every node of the organization ({hex(list.organization).slice(0, 8) || "none"}): each keeps its own ledger,
        sells with no network, and takes the others' when it can reach them.
      </p>
      <table class="report-table registers">
        <thead>
          <tr>
            <th>Name</th>
            <th>Sells at</th>
            <th class="num">Entries held</th>
            <th>Last heard from</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.nodes.map((n) => {
            const here = sameId(n.nodeId, list.nodeId);
            return (
              <tr key={hex(n.nodeId)} class={n.revoked ? "inactive" : ""} data-testid={`node-${n.name}`}>
                <td>
                  <strong>{n.name}</strong>
                  {here && <span class="badge">this one</span>}
                  <div class="muted mono">{hex(n.nodeId).slice(0, 16)}</div>
                </td>
                <td>{n.locationName || <span class="muted">nowhere said</span>}</td>
                <td class="num">{n.entries.toString()}</td>
                <td>
                  {here ? "now" : ago(now, n.lastHeard)}
                  {n.revoked && (
                    <div class="bad">
                      revoked {ago(now, n.revokedAt)}: {n.revokedReason} (its first {n.entriesStanding.toString()} entries
                      stand)
                    </div>
                  )}
                </td>
                <td class="row-actions">
                  {mayPair && !here && !n.revoked && (
                    <button class="ghost" onClick={() => setRevoking(n)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {pairing && <PairDialog onClose={() => (setPairing(false), void load())} fail={fail} />}
      {revoking && (
        <RevokeDialog
          node={revoking}
          onCancel={() => setRevoking(null)}
          onDone={() => {
            setRevoking(null);
            void load();
          }}
          fail={fail}
        />
      )}
    </section>
  );
}

function PairDialog({ onClose, fail }: { onClose: () => void; fail: (e: unknown) => void }) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [invite, setInvite] = useState<InviteNodeReply | null>(null);
  const ask = () => {
    if (busy || name.trim() === "") return;
    setBusy(true);
    pos
      .inviteNode({ name: name.trim() })
      .then(setInvite)
      .catch(fail)
      .finally(() => setBusy(false));
  };
  const peer = invite?.syncAddress || "HOST:PORT";
  return (
    <Dialog label="Pair a register" onCancel={onClose} onSubmit={invite ? onClose : ask}>
      <header>
        <h2>Pair a register</h2>
        <p class="muted">A one-time code for one new register, good for ten minutes.</p>
      </header>
      {invite ? (
        <>
          <p class="pairing-code" data-testid="pairing-code">
            {invite.code}
          </p>
          <p>On the new register:</p>
          <pre class="command">{`mpos pair join --data DIR --peer ${peer} --code ${invite.code}`}</pre>
          {!invite.syncAddress && <p class="bad">This node does not answer sync: start it with --sync ADDR first.</p>}
        </>
      ) : (
        <label>
          What to call it
          <input autoFocus value={name} maxLength={64} placeholder="Bar till" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
      )}
      <footer>
        <button type="button" class="ghost" onClick={onClose}>
          {invite ? "Close" : "Cancel"}
        </button>
        {!invite && (
          <button class="primary" disabled={busy || name.trim() === ""}>
            Make a code
          </button>
        )}
      </footer>
    </Dialog>
  );
}

function RevokeDialog({
  node,
  onCancel,
  onDone,
  fail,
}: {
  node: NodeView;
  onCancel: () => void;
  onDone: () => void;
  fail: (e: unknown) => void;
}) {
  const requestId = useRef(newId());
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const ok = reason.trim() !== "";
  const revoke = () => {
    if (!ok || busy) return;
    setBusy(true);
    pos
      .revokeNode({ requestId: requestId.current, nodeId: node.nodeId, reason: reason.trim() })
      .then(onDone)
      .catch(fail)
      .finally(() => setBusy(false));
  };
  return (
    <Dialog label={`Revoke ${node.name}`} onCancel={onCancel} onSubmit={revoke}>
      <header>
        <h2>Revoke {node.name}</h2>
        <p class="muted">
          The {node.entries.toString()} entries held of it stand; anything it writes from now on is refused by every
          node. A revoked register joins again only with a new data directory.
        </p>
      </header>
      <label>
        Why
        <input autoFocus value={reason} maxLength={140} placeholder="stolen from the bar" onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <footer>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button class="primary danger" disabled={busy || !ok}>
          Revoke
        </button>
      </footer>
    </Dialog>
  );
}
