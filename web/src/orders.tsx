import { useEffect, useRef, useState } from "preact/hooks";
import { OrderStatus, type OrderView } from "../gen/mpos/v1/pos_pb";
import { refundedOf } from "./adjust";
import { pos } from "./api";
import { sameId } from "./ids";

const PAGE = 30;

function items(n: number): string {
  return n === 1 ? "1 item" : `${n} items`;
}

/** The time of day an order was opened, as people read it here. */
function clock(ms: bigint): string {
  return new Date(Number(ms)).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function day(ms: bigint): string {
  return new Date(Number(ms)).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
}

/**
 * Recent orders, newest first, found by number: to show a receipt again, or refund. The
 * list reloads whenever `changed` does (an order was paid or refunded here).
 */
export function Orders({
  money,
  current,
  changed,
  onPick,
  onError,
}: {
  money: (m: bigint) => string;
  current?: Uint8Array;
  changed: unknown;
  onPick: (o: OrderView) => void;
  onError: (e: unknown) => void;
}) {
  const [number, setNumber] = useState("");
  const [orders, setOrders] = useState<OrderView[]>([]);
  const [more, setMore] = useState(false);

  // Only the answer to the latest search is shown, however the answers arrive.
  const latest = useRef(0);
  const load = (after: OrderView | undefined, keep: OrderView[]) => {
    const asked = ++latest.current;
    pos
      .listOrders({
        before: after?.openedAt ?? 0n,
        beforeId: after?.id ?? new Uint8Array(),
        limit: PAGE,
        number: number.trim(),
      })
      .then((r) => {
        if (asked !== latest.current) return;
        setOrders([...keep, ...r.orders]);
        setMore(r.orders.length === PAGE);
      })
      .catch(onError);
  };

  useEffect(() => {
    load(undefined, []);
  }, [number, changed]);

  let lastDay = "";
  return (
    <section class="orders" aria-label="Orders">
      <input
        class="order-search"
        type="search"
        placeholder="Order number (T5-, C-…)"
        value={number}
        onInput={(e) => setNumber(e.currentTarget.value)}
        aria-label="Find an order by number"
      />
      <ol class="order-list">
        {orders.map((o) => {
          const d = day(o.openedAt);
          const heading = d !== lastDay ? d : "";
          lastDay = d;
          const refunded = refundedOf(o);
          return [
            heading && (
              <li key={`day-${d}`} class="day-label">
                {heading}
              </li>
            ),
            <li key={o.id.join(",")}>
              <button
                class={current && sameId(current, o.id) ? "order-row on" : "order-row"}
                onClick={() => onPick(o)}
                data-testid={`order-${o.number}`}
              >
                <span class="time">{clock(o.openedAt)}</span>
                <span class="number">{o.number}</span>
                <span class="count muted">
                  {items(o.lines.filter((l) => !l.voided).length)}
                  {refunded > 0n && ` · ${money(refunded)} refunded`}
                </span>
                {o.conflicts.length > 0 ? (
                  <span class="status conflict" title={o.conflicts.join("; ")}>
                    needs a manager
                  </span>
                ) : (
                  <span class={`status ${OrderStatus[o.status].toLowerCase()}`}>{OrderStatus[o.status].toLowerCase()}</span>
                )}
                <span class="amount">{money(o.total)}</span>
              </button>
            </li>,
          ];
        })}
        {orders.length === 0 && <li class="muted empty">No orders{number ? ` numbered ${number}…` : " yet"}.</li>}
      </ol>
      {more && (
        <button class="ghost" onClick={() => load(orders[orders.length - 1], orders)}>
          Older orders
        </button>
      )}
    </section>
  );
}
