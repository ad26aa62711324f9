import { useEffect, useState } from "preact/hooks";
import { Role } from "../gen/mpos/v1/events_pb";
import { Permission, type StaffEntry } from "../gen/mpos/v1/pos_pb";
import { explain, pos } from "./api";
import { PinEntry, StaffGrid } from "./login";

/** Who can approve what a cashier or server may not do alone. */
const APPROVERS = [Role.OWNER, Role.MANAGER];

/**
 * A manager's approval: the manager picks their name and types their PIN on this
 * register, and the one action is sent on their authority (the ledger records them).
 * Their session is used for that action only and never kept.
 */
export function Approve({
  what,
  permission,
  onApproved,
  onCancel,
}: {
  /** The action, for the heading: "void this line". */
  what: string;
  permission: Permission;
  onApproved: (token: string, name: string) => void;
  onCancel: () => void;
}) {
  const [staff, setStaff] = useState<StaffEntry[] | null>(null);
  const [chosen, setChosen] = useState<StaffEntry | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    pos
      .listStaff({})
      .then((r) => setStaff(r.staff.filter((s) => APPROVERS.includes(s.role))))
      .catch((e) => setError(explain(e)));
  }, []);

  const submit = async (pin: string) => {
    if (!chosen) return false;
    setBusy(true);
    setError("");
    try {
      const r = await pos.login({ staff: chosen.id, pin });
      if (!r.permissions.includes(permission)) {
        setError(`${chosen.name} may not ${what} either.`);
        return false;
      }
      onApproved(r.token, r.staff?.name ?? chosen.name);
      return true;
    } catch (e) {
      setError(explain(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="scrim" onClick={(e) => e.target === e.currentTarget && onCancel()}>
      <div class="dialog approve" role="dialog" aria-label="Manager approval">
        {!chosen ? (
          <>
            <header>
              <h2>A manager must approve</h2>
              <p class="muted">You may not {what} on your own. Ask a manager to confirm with their PIN.</p>
            </header>
            {staff?.length === 0 && <p class="muted">Nobody here can approve this.</p>}
            <StaffGrid staff={staff ?? []} onPick={setChosen} />
            {error && (
              <p class="error" role="alert">
                {error}
              </p>
            )}
            <footer>
              <button class="ghost" onClick={onCancel}>
                Cancel
              </button>
            </footer>
          </>
        ) : (
          <div class="pin">
            <button class="link" onClick={() => setChosen(null)}>
              ← Someone else
            </button>
            <PinEntry
              title={`${chosen.name}, approve: ${what}`}
              submitLabel="Approve"
              busy={busy}
              error={error}
              onSubmit={submit}
              onBack={() => setChosen(null)}
            />
          </div>
        )}
      </div>
    </div>
  );
}
