import { useEffect, useState } from "preact/hooks";
import type { OrderView } from "../gen/mpos/v1/pos_pb";
import { pos } from "./api";
import { hex } from "./ids";
import { Dialog } from "./dialog";

/** A share of the bill to pay on its own. */
export interface Part {
  label: string;
  amount: bigint;
}

type By = "seat" | "item" | "evenly";

/** Splitting the bill: by seat, by the items a guest had, or evenly; each part paid on its own. */
export function Split({
  order,
  money,
  paid,
  onPay,
  onClose,
  onError,
}: {
  order: OrderView;
  money: (minor: bigint) => string;
  /** Parts already paid in this split (by label). */
  paid: string[];
  onPay: (p: Part) => void;
  onClose: () => void;
  onError: (e: unknown) => void;
}) {
  const [by, setBy] = useState<By>(order.guests > 1 ? "seat" : "item");
  const [ways, setWays] = useState(2);
  const [chosen, setChosen] = useState<string[]>([]);
  const [parts, setParts] = useState<Part[]>([]);
  const lines = order.lines.filter((l) => !l.voided);

  useEffect(() => {
    const picked = lines.filter((l) => chosen.includes(hex(l.id))).map((l) => l.id);
    if (by === "item" && picked.length === 0) {
      setParts([]);
      return;
    }
    const asked =
      by === "seat"
        ? pos.splitBill({ order: order.id, by: { case: "seat", value: {} } })
        : by === "evenly"
          ? pos.splitBill({ order: order.id, by: { case: "evenly", value: ways } })
          : pos.splitBill({ order: order.id, by: { case: "lines", value: { lines: picked } } });
    let stale = false;
    asked
      .then((r) => {
        if (!stale) setParts(r.parts.map((p) => ({ label: p.label, amount: p.amount })));
      })
      .catch((e) => {
        if (!stale) {
          setParts([]);
          onError(e);
        }
      });
    return () => {
      stale = true;
    };
  }, [by, ways, chosen.join(","), order.total]);

  const pick = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));

  return (
    <Dialog label="Split the bill" class="split" onCancel={onClose}>
      <header>
        <h2>Split the bill</h2>
        <p class="muted">
          Total {money(order.total)} · still due {money(order.balance)}
        </p>
      </header>
      <div class="segmented three" role="tablist">
        {(["seat", "item", "evenly"] as const).map((b) => (
          <button key={b} role="tab" aria-selected={by === b} class={by === b ? "on" : ""} onClick={() => setBy(b)}>
            {b === "seat" ? "By seat" : b === "item" ? "By item" : "Evenly"}
          </button>
        ))}
      </div>
      {by === "item" && (
        <ul class="pick-lines">
          {lines.map((l) => (
            <li key={hex(l.id)}>
              <label>
                <input type="checkbox" checked={chosen.includes(hex(l.id))} onChange={() => pick(hex(l.id))} />
                <span>
                  {l.item?.quantity}× {l.item?.name}
                </span>
                <span class="amount">{money(l.gross)}</span>
              </label>
            </li>
          ))}
        </ul>
      )}
      {by === "evenly" && (
        <div class="options">
          {[2, 3, 4, 5, 6].map((n) => (
            <button key={n} class={ways === n ? "option on" : "option"} onClick={() => setWays(n)}>
              {n} ways
            </button>
          ))}
        </div>
      )}
      <ul class="parts">
        {parts.map((p) => {
          const done = paid.includes(p.label);
          return (
            <li key={p.label} class={done ? "paid" : ""}>
              <span class="label">{p.label[0]?.toUpperCase() + p.label.slice(1)}</span>
              <span class="amount">{money(p.amount)}</span>
              {done ? (
                <span class="ok">Paid ✓</span>
              ) : (
                <button
                  class="primary"
                  disabled={p.amount <= 0n || p.amount > order.balance}
                  onClick={() => onPay(p)}
                  aria-label={`Pay ${p.label}`}
                >
                  Pay
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <footer>
        <button class="ghost" onClick={onClose}>
          Close
        </button>
      </footer>
    </Dialog>
  );
}
