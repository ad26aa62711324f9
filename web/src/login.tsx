import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { LoginReply, StaffEntry } from "../gen/mpos/v1/pos_pb";
import { explain, pos, roleName, type Session } from "./api";

const PIN_MAX = 8;

/**
 * A PIN pad with its dots, by touch or keyboard (digits, Backspace, Enter; Escape goes
 * back). The PIN is cleared after each failed try.
 */
export function PinEntry({
  title,
  submitLabel,
  busy,
  error,
  onSubmit,
  onBack,
}: {
  title: string;
  submitLabel: string;
  busy: boolean;
  error: string;
  onSubmit: (pin: string) => Promise<boolean>;
  onBack: () => void;
}) {
  const [pin, setPinState] = useState("");
  // Keys can come faster than renders: the latest PIN lives in a ref, not in a closure.
  const pinNow = useRef("");
  const setPin = (p: string) => {
    pinNow.current = p;
    setPinState(p);
  };

  const press = (key: string) => {
    const p = pinNow.current;
    if (key === "del") setPin(p.slice(0, -1));
    else if (key === "ok") {
      if (p.length >= 4 && !busy) void onSubmit(p).then((ok) => ok || setPin(""));
    } else if (p.length < PIN_MAX) setPin(p + key);
  };

  // Attached as soon as the pad is on screen: a PIN typed right after picking a name
  // must not lose its first digits.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (/^\d$/.test(e.key)) press(e.key);
      else if (e.key === "Backspace") press("del");
      else if (e.key === "Enter") press("ok");
      else if (e.key === "Escape") onBack();
      else return;
      e.preventDefault();
      e.stopPropagation();
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  });

  return (
    <>
      <h1>{title}</h1>
      <div class="pin-dots" aria-label={`${pin.length} digits entered`}>
        {Array.from({ length: Math.max(4, pin.length) }, (_, i) => (
          <span class={i < pin.length ? "dot on" : "dot"} />
        ))}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="pinpad">
        {["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok"].map((k) => (
          <button
            key={k}
            class={k === "ok" ? "key primary" : "key"}
            disabled={busy || (k === "ok" && pin.length < 4)}
            onClick={() => press(k)}
            aria-label={k === "del" ? "Delete" : k === "ok" ? submitLabel : k}
          >
            {k === "del" ? "⌫" : k === "ok" ? submitLabel : k}
          </button>
        ))}
      </div>
    </>
  );
}

/**
 * Picking a member of staff and checking their PIN with the node, for signing in and for
 * a manager's approval: the staff to pick from (those `offered` keeps), who was picked,
 * and `check(pin, accept)`, where `accept` takes the node's reply or says why not. An
 * `approval` session lasts minutes, not a shift.
 */
export function useStaffPin(offered: (s: StaffEntry) => boolean = () => true, approval = false) {
  const [staff, setStaff] = useState<StaffEntry[] | null>(null);
  const [chosen, setChosen] = useState<StaffEntry | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    pos
      .listStaff({})
      .then((r) => setStaff(r.staff.filter(offered)))
      .catch((e) => setError(explain(e)));
  }, []);

  const pick = (s: StaffEntry | null) => {
    setChosen(s);
    setError("");
  };

  const check = async (pin: string, accept: (r: LoginReply, who: StaffEntry) => string | null) => {
    if (!chosen) return false;
    setBusy(true);
    setError("");
    try {
      const refusal = accept(await pos.login({ staff: chosen.id, pin, approval }), chosen);
      if (refusal) setError(refusal);
      return refusal === null;
    } catch (e) {
      setError(explain(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  return { staff, chosen, pick, error, busy, check };
}

/** Who is working: pick your name, type your PIN. */
export function Login({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const { staff, chosen, pick, error, busy, check } = useStaffPin();

  const submit = (pin: string) =>
    check(pin, (r, who) => {
      onSignIn({
        token: r.token,
        staffId: who.id,
        name: r.staff?.name ?? who.name,
        role: r.staff?.role ?? who.role,
        currency: r.currency,
        expiresAt: Number(r.expiresAt),
        permissions: r.permissions,
      });
      return null;
    });

  return (
    <main class="login">
      <header class="brand">
        <span class="logo">M</span> M_POS
      </header>
      {!chosen ? (
        <section class="panel">
          <h1>Who is working?</h1>
          {staff === null && !error && <p class="muted">Loading staff…</p>}
          <StaffGrid staff={staff ?? []} onPick={pick} />
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </section>
      ) : (
        <section class="panel pin">
          <button class="link" onClick={() => pick(null)}>
            ← Not {chosen.name}?
          </button>
          <PinEntry
            title={`${chosen.name}, your PIN`}
            submitLabel="Sign in"
            busy={busy}
            error={error}
            onSubmit={submit}
            onBack={() => pick(null)}
          />
        </section>
      )}
    </main>
  );
}

/** Staff as cards to tap: avatar, name, role. */
export function StaffGrid({ staff, onPick }: { staff: StaffEntry[]; onPick: (s: StaffEntry) => void }) {
  return (
    <div class="staff-grid">
      {staff.map((s) => (
        <button key={s.name} class="staff-card" onClick={() => onPick(s)}>
          <span class="avatar">{s.name.slice(0, 1)}</span>
          <span class="name">{s.name}</span>
          <span class="muted">{roleName[s.role]}</span>
        </button>
      ))}
    </div>
  );
}
