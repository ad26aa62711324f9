import { useEffect, useRef, useState } from "preact/hooks";
import { Channel, type Category } from "../gen/mpos/v1/events_pb";
import {
  KitchenStatus,
  OrderStatus,
  type MenuItemView,
  type MenuView,
  type OrderReply,
  type OrderView,
  type TableView,
} from "../gen/mpos/v1/pos_pb";
import { explain, isLost, isSessionGone, keepLive, pos, roleName, type Link, type Session } from "./api";
import { hex, newId, sameId } from "./ids";
import { Choose, type Choice } from "./choose";
import { Floor, Guests } from "./floor";
import { Pay } from "./pay";
import { Split, type Part } from "./split";
import { formatMoney } from "./money";
import { counterPrice } from "./prices";

/** A request that failed on the way: kept, with its ids, to be sent again as it was. */
interface Pending {
  what: string;
  send: () => Promise<OrderReply>;
}

export function Register({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [menu, setMenu] = useState<MenuView | null>(null);
  const [category, setCategory] = useState<Category | null>(null);
  const [items, setItems] = useState<MenuItemView[]>([]);
  const [query, setQuery] = useState("");
  const [order, setOrder] = useState<OrderView | null>(null);
  const [choosing, setChoosing] = useState<MenuItemView | null>(null);
  const [paying, setPaying] = useState(false);
  const [error, setError] = useState("");
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [mode, setMode] = useState<"counter" | "tables">("counter");
  const [floor, setFloor] = useState<TableView[]>([]);
  const [link, setLink] = useState<Link>("connecting");
  const [seating, setSeating] = useState<TableView | null>(null);
  const [seat, setSeat] = useState(0);
  const [splitting, setSplitting] = useState(false);
  const [part, setPart] = useState<Part | null>(null);
  const [paidParts, setPaidParts] = useState<string[]>([]);
  const search = useRef<HTMLInputElement>(null);
  const money = (minor: bigint) => formatMoney(minor, session.currency);

  const fail = (e: unknown) => {
    if (isSessionGone(e)) onSignOut();
    else setError(explain(e));
  };

  useEffect(() => {
    pos
      .getMenu({})
      .then((m) => {
        setMenu(m);
        setCategory(m.categories[0] ?? null);
      })
      .catch(fail);
  }, []);

  useEffect(() => {
    let stale = false;
    const q = query.trim();
    const load = q
      ? pos.searchItems({ query: q, limit: 40 })
      : category
        ? pos.listItems({ category: category.id, limit: 200 })
        : null;
    load
      ?.then((r) => {
        if (!stale) setItems(r.items);
      })
      .catch(fail);
    return () => {
      stale = true;
    };
  }, [category, query]);

  // The floor, live: tables, their orders and what the kitchen has done. The order on the
  // ticket follows it too, so "Ready" shows without a tap.
  useEffect(
    () =>
      keepLive(
        (signal) => pos.watchTables({}, { signal }),
        (r) => {
          setFloor(r.tables);
          setOrder((current) => {
            if (!current) return current;
            for (const t of r.tables)
              for (const o of t.orders) if (sameId(o.id, current.id)) return o;
            return current;
          });
        },
        (l) => setLink(l),
        fail,
      ),
    [],
  );

  // Keyboard: "/" searches, Escape clears the search or closes a dialog.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "/" && document.activeElement !== search.current) {
        e.preventDefault();
        search.current?.focus();
      } else if (e.key === "Escape") {
        if (choosing) setChoosing(null);
        else if (paying) setPaying(false);
        else if (splitting) setSplitting(false);
        else if (seating) setSeating(null);
        else setQuery("");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const run = async (what: string, send: () => Promise<OrderReply>) => {
    setBusy(true);
    setError("");
    try {
      const r = await send();
      setPending(null);
      if (r.order) setOrder(r.order);
      return r.order ?? null;
    } catch (e) {
      // Lost on the way: the same request, ids and all, can be sent again, and the node
      // applies it once. A refusal is final; the cashier changes something instead.
      setPending(isLost(e) ? { what, send } : null);
      fail(e);
      return null;
    } finally {
      setBusy(false);
    }
  };

  const add = (view: MenuItemView, choice: Choice) => {
    const item = view.item;
    if (!item) return;
    const line = {
      line: newId(),
      item: item.id,
      variant: choice.variant ?? new Uint8Array(),
      modifiers: choice.modifiers,
      quantity: 1,
      seat: order && order.status === OrderStatus.OPEN && order.guests > 1 ? seat : 0,
      course: 0,
      note: choice.note,
    };
    if (!order || order.status !== OrderStatus.OPEN) {
      const req = {
        requestId: newId(),
        order: newId(),
        number: "",
        channel: Channel.COUNTER,
        kind: { case: "takeaway" as const, value: {} },
        lines: [line],
      };
      req.number = `C-${hex(req.order.slice(13))}`;
      void run(`add ${item.name}`, () => pos.openOrder(req));
    } else {
      const req = { requestId: newId(), order: order.id, ...line };
      void run(`add ${item.name}`, () => pos.addItem(req));
    }
  };

  const tap = (view: MenuItemView) => {
    const item = view.item;
    if (!item || !item.available || busy) return;
    if (item.variants.length > 0 || view.modifierGroups.length > 0) setChoosing(view);
    else add(view, { modifiers: [], note: "" });
  };

  const seatAt = (t: TableView, guests: number) => {
    const table = t.table;
    if (!table) return;
    const id = newId();
    const req = {
      requestId: newId(),
      order: id,
      number: `${table.name}-${hex(id.slice(14))}`,
      channel: Channel.TABLE,
      kind: { case: "dineIn" as const, value: { table: table.id, guests } },
    };
    setSeating(null);
    setSeat(guests > 1 ? 1 : 0);
    setPaidParts([]);
    void run(`seat ${table.name}`, () => pos.openOrder(req)).then((o) => {
      if (o) setMode("counter");
    });
  };

  const pickTable = (t: TableView) => {
    const first = t.orders[0];
    if (first) {
      setOrder(first);
      setSeat(first.guests > 1 ? 1 : 0);
      setPaidParts([]);
      setMode("counter");
    } else {
      setSeating(t);
    }
  };

  const send = (o: OrderView) => {
    const req = { requestId: newId(), order: o.id, lines: [] };
    return run("send to the kitchen", () => pos.sendOrder(req));
  };

  const open = order && order.status === OrderStatus.OPEN;
  const lines = order?.lines.filter((l) => !l.voided) ?? [];
  const unsent = lines.filter((l) => !l.sent).length;
  const tableName = order && floor.find((t) => t.table && sameId(t.table.id, order.table))?.table?.name;
  const seats = order && order.guests > 1 ? Array.from({ length: order.guests }, (_, i) => i + 1) : [];
  // Lines by seat (shared last) when the order has seats; otherwise as entered.
  const groups: [string, typeof lines][] =
    seats.length > 0
      ? [...seats.map((n) => [`Seat ${n}`, n] as const), ["Shared", 0] as const]
          .map(([label, n]): [string, typeof lines] => [label, lines.filter((l) => l.seat === n)])
          .filter(([, ls]) => ls.length > 0)
      : [["", lines]];

  return (
    <div class="register">
      <header class="topbar">
        <span class="brand">
          <span class="logo">M</span>
          {menu?.settings?.name ?? "M_POS"}
        </span>
        <input
          ref={search}
          class="search"
          type="search"
          placeholder="Search name, SKU or barcode  ( / )"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <div class="segmented modes" role="tablist" aria-label="Register mode">
          <button role="tab" aria-selected={mode === "counter"} class={mode === "counter" ? "on" : ""} onClick={() => setMode("counter")}>
            Order
          </button>
          <button role="tab" aria-selected={mode === "tables"} class={mode === "tables" ? "on" : ""} onClick={() => setMode("tables")}>
            Tables
          </button>
        </div>
        <a class="ghost navlink" href="/kitchen">
          Kitchen
        </a>
        <span class="who">
          {session.name} · {roleName[session.role]}
          {link === "reconnecting" && <em class="offline"> · reconnecting…</em>}
        </span>
        <button class="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>

      {mode === "tables" && (
        <Floor tables={floor} money={money} current={order?.id} onPick={pickTable} />
      )}
      <nav class="categories" aria-label="Categories" hidden={mode === "tables"}>
        {menu?.categories.map((c) => (
          <button
            key={c.name}
            class={!query && category?.name === c.name ? "tab on" : "tab"}
            onClick={() => {
              setQuery("");
              setCategory(c);
            }}
          >
            {c.name}
          </button>
        ))}
      </nav>

      <section class="items" aria-label="Menu" hidden={mode === "tables"}>
        {items.map((v) => {
          const item = v.item;
          if (!item) return null;
          return (
            <button
              key={item.name}
              class={item.available ? "item" : "item out"}
              disabled={!item.available}
              onClick={() => tap(v)}
              aria-label={`${item.name}${item.available ? "" : " (sold out)"}`}
            >
              <span class="name">{item.name}</span>
              <span class="price">{money(counterPrice(v))}</span>
              {!item.available && <span class="badge">Sold out</span>}
              {(item.variants.length > 0 || v.modifierGroups.length > 0) && item.available && (
                <span class="more">options</span>
              )}
            </button>
          );
        })}
        {items.length === 0 && <p class="muted empty">{query ? "Nothing matches." : "No items here."}</p>}
      </section>

      <aside class="ticket" aria-label="Ticket" data-order={order ? hex(order.id) : undefined}>
        <header>
          <h2>
            {order ? `Order ${order.number}` : "New order"}
            {tableName && <small class="muted"> · Table {tableName}</small>}
          </h2>
          {order && order.kitchen !== KitchenStatus.NONE && (
            <span class={`status kitchen-${KitchenStatus[order.kitchen].toLowerCase()}`} data-testid="kitchen-status">
              {order.kitchen === KitchenStatus.READY ? "Ready" : "Preparing"}
            </span>
          )}
          {order && (
            <span class={`status ${OrderStatus[order.status].toLowerCase()}`}>
              {OrderStatus[order.status].toLowerCase()}
            </span>
          )}
        </header>
        {open && seats.length > 0 && (
          <div class="seats" role="group" aria-label="Seat for new items">
            {seats.map((n) => (
              <button key={n} class={seat === n ? "tab on" : "tab"} onClick={() => setSeat(n)}>
                Seat {n}
              </button>
            ))}
            <button class={seat === 0 ? "tab on" : "tab"} onClick={() => setSeat(0)}>
              Shared
            </button>
          </div>
        )}
        <ol class="lines">
          {groups.map(([label, ls = []]) => [
            label && (
              <li key={label} class="seat-label">
                {label}
              </li>
            ),
            ...ls.map((l) => (
            <li key={l.id.join(",")} class={l.sent ? "line sent" : "line"}>
              <span class="qty">{l.item?.quantity}×</span>
              <span class="what">
                {l.item?.name}
                {l.item?.variantName && <small> · {l.item.variantName}</small>}
                {l.item?.modifiers.map((m) => (
                  <small class="mod">+ {m.name}</small>
                ))}
                {l.note && <small class="note">“{l.note}”</small>}
                {l.sent && <small class="sent-mark">{l.readyAt !== 0n ? "ready ✓" : "sent ✓"}</small>}
              </span>
              <span class="amount">{money(l.gross)}</span>
            </li>
            )),
          ])}
          {lines.length === 0 && <li class="muted empty">Tap an item to start an order.</li>}
        </ol>
        {order && (
          <dl class="totals">
            {order.taxes.map((t) => (
              <>
                <dt>Tax {t.ratePpm / 10000}%</dt>
                <dd>{money(t.amount)}</dd>
              </>
            ))}
            {order.paid > 0n && (
              <>
                <dt>Paid</dt>
                <dd>{money(order.paid)}</dd>
              </>
            )}
            <dt class="total">Total</dt>
            <dd class="total" data-testid="total">
              {money(order.total)}
            </dd>
            {open && order.paid > 0n && (
              <>
                <dt class="due">Balance due</dt>
                <dd class="due">{money(order.balance)}</dd>
              </>
            )}
          </dl>
        )}
        {error && (
          <div class="error" role="alert">
            {error}
            {pending && (
              <button class="small" onClick={() => void run(pending.what, pending.send)}>
                Retry {pending.what}
              </button>
            )}
          </div>
        )}
        <div class="actions">
          {order && unsent > 0 && order.status !== OrderStatus.VOIDED && (
            <button class="ghost big send" disabled={busy} onClick={() => void send(order)}>
              Send to kitchen ({unsent})
            </button>
          )}
          {open && order.total > 0n && (seats.length > 0 || lines.length > 1) && (
            <button class="ghost big" disabled={busy} onClick={() => setSplitting(true)}>
              Split the bill
            </button>
          )}
          {open ? (
            <button class="primary big" disabled={busy} onClick={() => setPaying(true)}>
              Pay {money(order.balance)}
            </button>
          ) : (
            order && (
              <button
                class="primary big"
                onClick={() => {
                  setOrder(null);
                  setPaidParts([]);
                }}
              >
                New order
              </button>
            )
          )}
        </div>
      </aside>

      {choosing && (
        <Choose
          view={choosing}
          money={money}
          onCancel={() => setChoosing(null)}
          onChoose={(c) => {
            add(choosing, c);
            setChoosing(null);
          }}
        />
      )}
      {seating && (
        <Guests table={seating} onCancel={() => setSeating(null)} onSeat={(n) => seatAt(seating, n)} />
      )}
      {splitting && order && (
        <Split
          order={order}
          money={money}
          paid={paidParts}
          onClose={() => setSplitting(false)}
          onPay={(p) => {
            setPart(p);
            setPaying(true);
          }}
          onError={fail}
        />
      )}
      {paying && order && (
        <Pay
          order={order}
          currency={session.currency}
          amount={part?.amount}
          label={part?.label}
          onClose={() => {
            setPaying(false);
            setPart(null);
          }}
          onPaid={(o) => {
            setOrder(o);
            if (part) setPaidParts((p) => [...p, part.label]);
            // A counter order is made once it is paid: it goes to the kitchen now.
            if (o.status === OrderStatus.CLOSED && o.lines.some((l) => !l.sent && !l.voided)) void send(o);
          }}
          onSessionGone={onSignOut}
        />
      )}
    </div>
  );
}
