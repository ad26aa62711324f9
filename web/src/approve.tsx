import { Role } from "../gen/mpos/v1/events_pb";
import type { Permission } from "../gen/mpos/v1/pos_pb";
import { Dialog } from "./dialog";
import { PinEntry, StaffGrid, useStaffPin } from "./login";

/** Who can approve what a cashier or server may not do alone. */
const APPROVERS = [Role.OWNER, Role.MANAGER];

/**
 * A manager's approval: the manager picks their name and types their PIN on this
 * register, and the one action is sent on their authority (the ledger records them).
 * Their session lasts two minutes, is used for that action only and never kept.
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
  const { staff, chosen, pick, error, busy, check } = useStaffPin((s) => APPROVERS.includes(s.role), true);

  const submit = (pin: string) =>
    check(pin, (r, who) => {
      if (!r.permissions.includes(permission)) return `${who.name} may not ${what} either.`;
      onApproved(r.token, r.staff?.name ?? who.name);
      return null;
    });

  return (
    <Dialog label="Manager approval" class="approve" onCancel={onCancel}>
      {!chosen ? (
        <>
          <header>
            <h2>A manager must approve</h2>
            <p class="muted">You may not {what} on your own. Ask a manager to confirm with their PIN.</p>
          </header>
          {staff?.length === 0 && <p class="muted">Nobody here can approve this.</p>}
          <StaffGrid staff={staff ?? []} onPick={pick} />
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
          <button class="link" onClick={() => pick(null)}>
            ← Someone else
          </button>
          <PinEntry
            title={`${chosen.name}, approve: ${what}`}
            submitLabel="Approve"
            busy={busy}
            error={error}
            onSubmit={submit}
            onBack={() => pick(null)}
          />
        </div>
      )}
    </Dialog>
  );
}
