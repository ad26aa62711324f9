import { useEffect, useRef, useState } from "preact/hooks";
import type { StaffEntry } from "../gen/mpos/v1/pos_pb";
import { explain, pos, roleName, type Session } from "./api";

const PIN_MAX = 8;

/** Who is working: pick your name, type your PIN. */
export function Login({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const [staff, setStaff] = useState<StaffEntry[] | null>(null);
  const [chosen, setChosen] = useState<StaffEntry | null>(null);
  const [pin, setPinState] = useState("");
  // Keys can come faster than renders: the latest PIN lives in a ref, not in a closure.
  const pinNow = useRef("");
  const setPin = (p: string) => {
    pinNow.current = p;
    setPinState(p);
  };
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    pos
      .listStaff({})
      .then((r) => setStaff(r.staff))
      .catch((e) => setError(explain(e)));
  }, []);

  const submit = async (p: string) => {
    if (!chosen || p.length < 4 || busy) return;
    setBusy(true);
    setError("");
    try {
      const r = await pos.login({ staff: chosen.id, pin: p });
      onSignIn({
        token: r.token,
        staffId: chosen.id,
        name: r.staff?.name ?? chosen.name,
        role: r.staff?.role ?? chosen.role,
        currency: r.currency,
        expiresAt: Number(r.expiresAt),
      });
    } catch (e) {
      setError(explain(e));
      setPin("");
    } finally {
      setBusy(false);
    }
  };

  const press = (key: string) => {
    const p = pinNow.current;
    if (key === "del") setPin(p.slice(0, -1));
    else if (key === "ok") void submit(p);
    else if (p.length < PIN_MAX) setPin(p + key);
  };

  useEffect(() => {
    if (!chosen) return;
    const onKey = (e: KeyboardEvent) => {
      if (/^\d$/.test(e.key)) press(e.key);
      else if (e.key === "Backspace") press("del");
      else if (e.key === "Enter") press("ok");
      else if (e.key === "Escape") setChosen(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
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
          <div class="staff-grid">
            {staff?.map((s) => (
              <button
                key={s.name}
                class="staff-card"
                onClick={() => {
                  setChosen(s);
                  setPin("");
                  setError("");
                }}
              >
                <span class="avatar">{s.name.slice(0, 1)}</span>
                <span class="name">{s.name}</span>
                <span class="muted">{roleName[s.role]}</span>
              </button>
            ))}
          </div>
          {error && <p class="error" role="alert">{error}</p>}
        </section>
      ) : (
        <section class="panel pin">
          <button class="link" onClick={() => setChosen(null)}>
            ← Not {chosen.name}?
          </button>
          <h1>{chosen.name}, your PIN</h1>
          <div class="pin-dots" aria-label={`${pin.length} digits entered`}>
            {Array.from({ length: Math.max(4, pin.length) }, (_, i) => (
              <span class={i < pin.length ? "dot on" : "dot"} />
            ))}
          </div>
          {error && <p class="error" role="alert">{error}</p>}
          <div class="pinpad">
            {["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok"].map((k) => (
              <button
                key={k}
                class={k === "ok" ? "key primary" : "key"}
                disabled={busy || (k === "ok" && pin.length < 4)}
                onClick={() => press(k)}
                aria-label={k === "del" ? "Delete" : k === "ok" ? "Sign in" : k}
              >
                {k === "del" ? "⌫" : k === "ok" ? "Sign in" : k}
              </button>
            ))}
          </div>
        </section>
      )}
    </main>
  );
}
