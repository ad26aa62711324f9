import { useRef, useState } from "preact/hooks";
import { OrderStatus, type OrderView, type PaymentView } from "../gen/mpos/v1/pos_pb";
import { explain, isLost, isSessionGone, pos } from "./api";
import { newId } from "./ids";
import { decimal, exponent, formatMoney, parseMoney } from "./money";

/** Quick cash amounts: the exact balance, then round notes above it. */
export function cashSuggestions(balance: bigint, currency: string): bigint[] {
  const unit = 10n ** BigInt(exponent(currency));
  const out = [balance];
  for (const note of [5n, 10n, 20n, 50n, 100n]) {
    const step = note * unit;
    const up = ((balance + step - 1n) / step) * step;
    if (up > balance && !out.includes(up)) out.push(up);
    if (out.length >= 4) break;
  }
  return out;
}

/** Taking payment: cash with change due, or a card through the external terminal. */
export function Pay({
  order,
  currency,
  amount: preset,
  label,
  onClose,
  onPaid,
  onSessionGone,
}: {
  order: OrderView;
  currency: string;
  /** A part of the bill to pay (a seat's share, say); the balance when absent. */
  amount?: bigint;
  label?: string;
  onClose: () => void;
  onPaid: (o: OrderView) => void;
  onSessionGone: () => void;
}) {
  const [tender, setTender] = useState<"cash" | "card">("cash");
  const [amountText, setAmountText] = useState(
    preset !== undefined && preset < order.balance ? decimal(preset, currency) : "",
  );
  const [received, setReceived] = useState("");
  const [reference, setReference] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<PaymentView | null>(null);
  // The ids of the last attempt: sent again only for the same payment after its answer
  // was lost on the way (the node then applies it once); anything else is a new request.
  const attempt = useRef<{ key: string; request: Uint8Array; payment: Uint8Array } | null>(null);
  const money = (m: bigint) => formatMoney(m, currency);
  const balance = order.balance;
  const amount = amountText.trim() === "" ? balance : parseMoney(amountText, currency);

  const take = async (cashReceived?: bigint) => {
    if (amount === null || amount <= 0n) {
      setError("Enter an amount to pay.");
      return;
    }
    if (amount > balance) {
      setError(`That is more than the balance of ${money(balance)}.`);
      return;
    }
    const key = [tender, amount, cashReceived, reference.trim()].join("|");
    if (attempt.current?.key !== key) {
      attempt.current = { key, request: newId(), payment: newId() };
    }
    const ids = attempt.current;
    setBusy(true);
    setError("");
    try {
      const r = await pos.takePayment({
        requestId: ids.request,
        order: order.id,
        payment: ids.payment,
        tender:
          tender === "cash"
            ? { kind: { case: "cash", value: {} } }
            : { kind: { case: "cardReference", value: reference.trim() || "terminal" } },
        amount,
        tip: 0n,
        cashReceived,
      });
      if (r.order) {
        onPaid(r.order);
        setDone(r.order.payments[r.order.payments.length - 1] ?? null);
      }
    } catch (e) {
      if (isSessionGone(e)) onSessionGone();
      if (!isLost(e)) attempt.current = null;
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <div class="scrim">
        <div class="dialog pay done" role="dialog" aria-label="Payment taken">
          <h2>Paid {money(done.amount)}</h2>
          {done.changeDue > 0n && (
            <p class="change" data-testid="change">
              Change due <strong>{money(done.changeDue)}</strong>
            </p>
          )}
          <footer>
            <button class="primary" onClick={onClose}>
              {order.status === OrderStatus.OPEN ? "Back to the order" : "Done"}
            </button>
          </footer>
        </div>
      </div>
    );
  }

  return (
    <div class="scrim" onClick={onClose}>
      <div class="dialog pay" role="dialog" aria-label="Take payment" onClick={(e) => e.stopPropagation()}>
        <header>
          <h2>{label ? `Pay ${label}: ${money(amount ?? balance)}` : `Balance due ${money(balance)}`}</h2>
          {label && <p class="muted">Balance of the order {money(balance)}</p>}
        </header>
        <div class="segmented" role="tablist">
          {(["cash", "card"] as const).map((t) => (
            <button
              key={t}
              role="tab"
              aria-selected={tender === t}
              class={tender === t ? "on" : ""}
              onClick={() => setTender(t)}
            >
              {t === "cash" ? "Cash" : "Card"}
            </button>
          ))}
        </div>
        <label>
          Amount to pay (split: less than the balance)
          <input
            inputMode="decimal"
            placeholder={money(balance)}
            value={amountText}
            onInput={(e) => setAmountText(e.currentTarget.value)}
          />
        </label>
        {tender === "cash" ? (
          <>
            <div class="options">
              {amount !== null &&
                cashSuggestions(amount, currency).map((s) => (
                  <button key={s.toString()} class="option" disabled={busy} onClick={() => void take(s)}>
                    {money(s)}
                  </button>
                ))}
            </div>
            <label>
              Cash received
              <input
                inputMode="decimal"
                value={received}
                onInput={(e) => setReceived(e.currentTarget.value)}
              />
            </label>
            <footer>
              <button class="ghost" onClick={onClose}>
                Cancel
              </button>
              <button
                class="primary"
                disabled={busy}
                onClick={() => {
                  const r = received.trim() === "" ? amount : parseMoney(received, currency);
                  if (r === null || (amount !== null && r < amount)) {
                    setError("The cash received must cover the amount.");
                  } else {
                    void take(r);
                  }
                }}
              >
                Take cash
              </button>
            </footer>
          </>
        ) : (
          <>
            <label>
              Terminal reference
              <input
                placeholder="as printed by the card terminal"
                value={reference}
                onInput={(e) => setReference(e.currentTarget.value)}
              />
            </label>
            <footer>
              <button class="ghost" onClick={onClose}>
                Cancel
              </button>
              <button class="primary" disabled={busy} onClick={() => void take()}>
                Card approved
              </button>
            </footer>
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
