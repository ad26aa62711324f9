// Changing what was sold: voids, discounts and refunds. Each needs a reason (it goes in
// the ledger with whoever did it); the register asks a manager first when the role may
// not do it alone.

import { useState } from "preact/hooks";
import type { LineView, OrderView, PaymentView } from "../gen/mpos/v1/pos_pb";
import { Dialog } from "./dialog";
import { sameId } from "./ids";
import { decimal, formatMoney, parseMoney } from "./money";
import { parsePercent } from "./percent";

export const VOID_REASONS = ["Entered by mistake", "Guest changed their mind", "Kitchen error", "Walked out"];
export const DISCOUNT_REASONS = ["Staff meal", "Complaint", "Regular guest", "Happy hour"];
export const REFUND_REASONS = ["Complaint", "Charged twice", "Item not served", "Wrong item"];
const REASON_MAX = 140;

/** Tap a common reason or type one. */
function Reason({
  reasons,
  value,
  onChange,
}: {
  reasons: string[];
  value: string;
  onChange: (r: string) => void;
}) {
  return (
    <fieldset>
      <legend>Reason</legend>
      <div class="options">
        {reasons.map((r) => (
          <button key={r} class={value === r ? "option on" : "option"} aria-pressed={value === r} onClick={() => onChange(r)}>
            {r}
          </button>
        ))}
      </div>
      <label class="reason-text">
        Or in your words
        <input value={reasons.includes(value) ? "" : value} maxLength={REASON_MAX} onInput={(e) => onChange(e.currentTarget.value)} />
      </label>
    </fieldset>
  );
}

/** What the cashier can do with one line of the ticket. */
export function LineActions({
  line,
  money,
  onVoid,
  onDiscount,
  onCancel,
}: {
  line: LineView;
  money: (m: bigint) => string;
  onVoid: () => void;
  onDiscount: () => void;
  onCancel: () => void;
}) {
  const name = line.item?.name ?? "line";
  return (
    <Dialog label={`Line ${name}`} onCancel={onCancel}>
      <header>
        <h2>
          {line.item?.quantity}× {name}
        </h2>
        <p class="muted">
          {money(line.gross)}
          {line.discount > 0n && ` after ${money(line.discount)} off`}
          {line.sent ? " · sent to the kitchen" : " · not sent yet"}
        </p>
      </header>
      <div class="action-list">
        <button class="ghost big" onClick={onDiscount}>
          Discount this line
        </button>
        <button class="ghost big danger" onClick={onVoid}>
          Void this line
        </button>
      </div>
      <footer>
        <button class="ghost" onClick={onCancel}>
          Cancel
        </button>
      </footer>
    </Dialog>
  );
}

export function VoidDialog({
  title,
  detail,
  onVoid,
  onCancel,
}: {
  title: string;
  detail: string;
  onVoid: (reason: string) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = useState("");
  return (
    <Dialog label={title} onCancel={onCancel}>
      <header>
        <h2>{title}</h2>
        <p class="muted">{detail}</p>
      </header>
      <Reason reasons={VOID_REASONS} value={reason} onChange={setReason} />
      <footer>
        <button class="ghost" onClick={onCancel}>
          Keep it
        </button>
        <button class="primary danger" disabled={reason.trim() === ""} onClick={() => onVoid(reason.trim())}>
          Void
        </button>
      </footer>
    </Dialog>
  );
}

export type DiscountKind = { case: "percentPpm"; value: number } | { case: "amount"; value: bigint };

/** Parts per million of a percentage typed by a person ("10", "12.5"); null if not one. */
export function percentPpm(text: string): number | null {
  const ppm = parsePercent(text);
  return ppm !== null && ppm > 0 ? ppm : null;
}

/** What `kind` takes off `base` (for the preview; the node's figure is the one kept). */
export function discountOff(kind: DiscountKind, base: bigint): bigint {
  if (kind.case === "amount") return kind.value < base ? kind.value : base;
  return (base * BigInt(kind.value) + 500_000n) / 1_000_000n;
}

export function DiscountDialog({
  title,
  base,
  currency,
  onApply,
  onCancel,
}: {
  title: string;
  /** What the discount applies to, before it. */
  base: bigint;
  currency: string;
  onApply: (kind: DiscountKind, reason: string) => void;
  onCancel: () => void;
}) {
  const [by, setBy] = useState<"percent" | "amount">("percent");
  const [text, setText] = useState("10");
  const [reason, setReason] = useState("");
  const money = (m: bigint) => formatMoney(m, currency);
  let kind: DiscountKind | null = null;
  if (by === "percent") {
    const ppm = percentPpm(text);
    if (ppm !== null) kind = { case: "percentPpm", value: ppm };
  } else {
    const amount = parseMoney(text, currency);
    if (amount !== null && amount > 0n) kind = { case: "amount", value: amount };
  }
  const tooMuch = kind?.case === "amount" && kind.value > base;
  return (
    <Dialog label={title} onCancel={onCancel}>
      <header>
        <h2>{title}</h2>
        <p class="muted">On {money(base)} before discounts</p>
      </header>
      <div class="segmented" role="tablist" aria-label="Discount by">
        <button role="tab" aria-selected={by === "percent"} class={by === "percent" ? "on" : ""} onClick={() => { setBy("percent"); setText("10"); }}>
          Percent
        </button>
        <button role="tab" aria-selected={by === "amount"} class={by === "amount" ? "on" : ""} onClick={() => { setBy("amount"); setText(""); }}>
          Amount
        </button>
      </div>
      {by === "percent" && (
        <div class="options">
          {["10", "15", "20", "50", "100"].map((p) => (
            <button key={p} class={text === p ? "option on" : "option"} aria-pressed={text === p} onClick={() => setText(p)}>
              {p === "100" ? "100% (on the house)" : `${p}%`}
            </button>
          ))}
        </div>
      )}
      <label>
        {by === "percent" ? "Percent off" : `Amount off (${currency})`}
        <input inputMode="decimal" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder={by === "amount" ? decimal(base, currency) : ""} />
      </label>
      <Reason reasons={DISCOUNT_REASONS} value={reason} onChange={setReason} />
      {kind && !tooMuch && (
        <p class="ok" data-testid="discount-preview">
          {money(discountOff(kind, base))} off
        </p>
      )}
      {tooMuch && <p class="need">That is more than {money(base)}.</p>}
      <footer>
        <button class="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button class="primary" disabled={!kind || tooMuch || reason.trim() === ""} onClick={() => kind && onApply(kind, reason.trim())}>
          Apply discount
        </button>
      </footer>
    </Dialog>
  );
}

/** What is left to refund of a payment: what it took (with its tip) less refunds so far. */
export function refundable(p: PaymentView): bigint {
  return p.amount + p.tip - p.refunded;
}

/** What has been refunded of an order's payments so far. */
export function refundedOf(o: OrderView): bigint {
  return o.payments.reduce((sum, p) => sum + p.refunded, 0n);
}

export function tenderName(p: PaymentView): string {
  const k = p.tender?.kind;
  if (k?.case === "cash") return "Cash";
  if (k?.case === "cardReference") return `Card ${k.value}`;
  if (k?.case === "other") return k.value;
  return "Payment";
}

export function RefundDialog({
  order,
  currency,
  onRefund,
  onCancel,
}: {
  order: OrderView;
  currency: string;
  onRefund: (payment: PaymentView, amount: bigint, reason: string) => void;
  onCancel: () => void;
}) {
  const payments = order.payments.filter((p) => refundable(p) > 0n);
  const [payment, setPayment] = useState<PaymentView | null>(payments[0] ?? null);
  const [text, setText] = useState("");
  const [reason, setReason] = useState("");
  const money = (m: bigint) => formatMoney(m, currency);
  const left = payment ? refundable(payment) : 0n;
  const amount = text.trim() === "" ? left : parseMoney(text, currency);
  const bad = amount === null || amount <= 0n || amount > left;
  return (
    <Dialog label={`Refund order ${order.number}`} onCancel={onCancel}>
      <header>
        <h2>Refund · {order.number}</h2>
        <p class="muted">The money goes back the way it came.</p>
      </header>
      {payments.length === 0 ? (
        <p class="muted">Everything paid on this order has been refunded.</p>
      ) : (
        <>
          <fieldset>
            <legend>Payment</legend>
            <div class="options">
              {payments.map((p) => (
                <button
                  key={p.id.join(",")}
                  class={payment && sameId(payment.id, p.id) ? "option on" : "option"}
                  aria-pressed={!!payment && sameId(payment.id, p.id)}
                  onClick={() => {
                    setPayment(p);
                    setText("");
                  }}
                >
                  {tenderName(p)}
                  <small>{money(refundable(p))} refundable</small>
                </button>
              ))}
            </div>
          </fieldset>
          <label>
            Amount ({currency})
            <input inputMode="decimal" value={text} placeholder={decimal(left, currency)} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          {amount !== null && amount > left && <p class="need">At most {money(left)} of this payment.</p>}
          <Reason reasons={REFUND_REASONS} value={reason} onChange={setReason} />
        </>
      )}
      <footer>
        <button class="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button
          class="primary"
          disabled={!payment || bad || reason.trim() === ""}
          onClick={() => payment && amount !== null && onRefund(payment, amount, reason.trim())}
        >
          Refund {amount !== null && !bad ? money(amount) : ""}
        </button>
      </footer>
    </Dialog>
  );
}
