import { useEffect, useRef, useState } from "preact/hooks";
import { Channel, type Category } from "../gen/mpos/v1/events_pb";
import {
  KitchenStatus,
  OrderStatus,
  Permission,
  type LineView,
  type MenuItemView,
  type MenuView,
  type OrderReply,
  type OrderView,
  type TableView,
} from "../gen/mpos/v1/pos_pb";
import { as, explain, isLost, isSessionGone, keepLive, may, pos, roleName, type Link, type Session } from "./api";
import { DiscountDialog, LineActions, RefundDialog, VoidDialog, refundable, refundedOf, type DiscountKind } from "./adjust";
import { Approve } from "./approve";
import { Orders } from "./orders";
import { Receipt } from "./receipt";
import { Code, ConnectError } from "@connectrpc/connect";
import { hex, newId, sameId } from "./ids";
import { Choose, type Choice } from "./choose";
import { Floor, Guests } from "./floor";
import { Pay } from "./pay";
import { Split, type Part } from "./split";
import { formatMoney } from "./money";
import { percentText } from "./percent";
import { courseChoices, courseState, coursed, fireable, type CourseState } from "./courses";
import { counterPrice } from "./prices";

/** A request that failed on the way: kept, with its ids, to be sent again as it was. */
interface Pending {
  what: string;
  send: () => Promise<OrderReply>;
}

/** Sends a request, on the signed-in session or on an approver's (`token`). */
type Send = (options?: { headers: Record<string, string> }) => Promise<OrderReply>;

/** A dialog about the order on the ticket. */
type Acting =
  | { kind: "line"; line: LineView }
  | { kind: "void-line"; line: LineView }
  | { kind: "discount"; line?: LineView }
  | { kind: "void-order" }
  | { kind: "refund" }
  | { kind: "receipt" };

/** Quick tries of a request whose answer was lost, before it waits for the network. */
const QUICK_RETRIES = [300, 1000];
/** Then it is tried this often, and whenever the browser says it is back online. */
const RETRY_EVERY = 5000;

/** Whether a key press is for a text field rather than a shortcut. */
function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
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
  const [mode, setMode] = useState<"counter" | "tables" | "orders">("counter");
  const [acting, setActing] = useState<Acting | null>(null);
  const [approval, setApproval] = useState<{ permission: Permission; what: string; send: Send } | null>(null);
  const [notice, setNotice] = useState("");
  const [changed, setChanged] = useState(0);
  const [floor, setFloor] = useState<TableView[]>([]);
  const [link, setLink] = useState<Link>("connecting");
  const [seating, setSeating] = useState<TableView | null>(null);
  const [seat, setSeat] = useState(0);
  const [course, setCourse] = useState(1);
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

  // Keyboard: "/" searches, Escape clears the search or closes a dialog; single keys
  // (shown on the buttons) pay, send, split and switch modes when no field has focus.
  const dialogOpen = !!(choosing || paying || splitting || seating || acting || approval);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "/" && document.activeElement !== search.current) {
        e.preventDefault();
        search.current?.focus();
      } else if (e.key === "Escape") {
        if (approval) setApproval(null);
        else if (acting) setActing(null);
        else if (choosing) setChoosing(null);
        else if (paying) setPaying(false);
        else if (splitting) setSplitting(false);
        else if (seating) setSeating(null);
        else {
          setQuery("");
          search.current?.blur();
        }
      } else if (!typing(e) && !dialogOpen && !e.ctrlKey && !e.metaKey && !e.altKey) {
        const key = e.key.toLowerCase();
        const shortcut = shortcuts[key];
        if (shortcut) {
          e.preventDefault();
          shortcut();
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  // Lost on the way: the same request, ids and all, is sent again, and the node applies
  // it once: twice quickly, then every few seconds and as soon as the browser is back
  // online, until it is answered or the cashier discards it. A refusal is final; the
  // cashier changes something instead.
  const run = async (what: string, send: () => Promise<OrderReply>, resend = false) => {
    setBusy(true);
    // A resend keeps the banner (and its Discard) up until it is answered.
    if (!resend) setError("");
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await send();
          setPending(null);
          setNotice("");
          if (resend) setError("");
          if (r.order) setOrder(r.order);
          setChanged((n) => n + 1);
          return r.order ?? null;
        } catch (e) {
          const pause = QUICK_RETRIES[attempt];
          if (isLost(e) && pause !== undefined) {
            setNotice(`Connection lost: sending “${what}” again…`);
            await new Promise((r) => setTimeout(r, pause));
            continue;
          }
          setNotice("");
          setPending(isLost(e) ? { what, send } : null);
          fail(e);
          return null;
        }
      }
    } finally {
      setBusy(false);
    }
  };

  // What is pending now, read when a timer or the `online` event fires: a request the
  // cashier has just discarded is never sent by a handler that saw it earlier.
  const pendingNow = useRef<Pending | null>(null);
  pendingNow.current = pending;
  useEffect(() => {
    if (!pending) return;
    const again = () => {
      const p = pendingNow.current;
      if (p && !busy) void run(p.what, p.send, true);
    };
    const timer = setInterval(again, RETRY_EVERY);
    window.addEventListener("online", again);
    return () => {
      clearInterval(timer);
      window.removeEventListener("online", again);
    };
  }, [pending, busy]);

  /** Runs `send` on the session's authority, or asks a manager first when it has not. */
  const authorized = (permission: Permission, what: string, send: Send) => {
    setActing(null);
    if (may(session, permission)) void run(what, () => send());
    else setApproval({ permission, what, send });
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
      course: order && order.status === OrderStatus.OPEN && order.table.length > 0 ? course : 0,
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
    // One request at a time: a tap while another waits to be sent would land on an
    // order the waiting one may still change.
    if (pending) {
      setError(`“${pending.what}” is not sent yet: retry or discard it first.`);
      return;
    }
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
    startPickers(guests);
    void run(`seat ${table.name}`, () => pos.openOrder(req)).then((o) => {
      if (o) setMode("counter");
    });
  };

  // A new ticket on screen: its first seat and course take the next lines, nothing of
  // the last ticket's split is left.
  const startPickers = (guests: number) => {
    setSeat(guests > 1 ? 1 : 0);
    setCourse(1);
    setPaidParts([]);
  };

  const pickTable = (t: TableView) => {
    const first = t.orders[0];
    if (first) {
      setOrder(first);
      startPickers(first.guests);
      setMode("counter");
    } else {
      setSeating(t);
    }
  };

  const send = (o: OrderView) => {
    const req = { requestId: newId(), order: o.id, lines: [] };
    return run("send to the kitchen", () => pos.sendOrder(req));
  };

  const fire = (o: OrderView, course: number) => {
    const req = { requestId: newId(), order: o.id, course };
    return run(`fire course ${course}`, () => pos.fireCourse(req));
  };

  const voidLine = (o: OrderView, line: LineView, reason: string) => {
    const req = { requestId: newId(), order: o.id, line: line.id, reason };
    const permission = line.sent ? Permission.VOID_SENT : Permission.VOID_UNSENT_LINE;
    authorized(permission, `void ${line.item?.name ?? "a line"}`, (opts) => pos.voidLine(req, opts));
  };

  const discount = (o: OrderView, line: LineView | undefined, kind: DiscountKind, reason: string) => {
    const req = { requestId: newId(), order: o.id, discount: newId(), line: line?.id ?? new Uint8Array(), kind, reason };
    const what = line ? `discount ${line.item?.name ?? "a line"}` : "discount the order";
    authorized(Permission.DISCOUNT, what, (opts) => pos.applyDiscount(req, opts));
  };

  const voidOrder = (o: OrderView, reason: string) => {
    const req = { requestId: newId(), order: o.id, reason };
    authorized(Permission.VOID_SENT, "void the order", (opts) => pos.voidOrder(req, opts));
  };

  const refund = (o: OrderView, payment: Uint8Array, amount: bigint, reason: string) => {
    const req = { requestId: newId(), order: o.id, payment, amount, reason, drawer: new Uint8Array() };
    authorized(Permission.REFUND, "refund", (opts) => pos.refund(req, opts));
  };

  const open = order && order.status === OrderStatus.OPEN;
  const lines = order?.lines.filter((l) => !l.voided) ?? [];
  const unsent = lines.filter((l) => !l.sent).length;
  const tableName = order && floor.find((t) => t.table && sameId(t.table.id, order.table))?.table?.name;
  const seats = order && order.guests > 1 ? Array.from({ length: order.guests }, (_, i) => i + 1) : [];
  const showCourses = coursed(lines);
  const toFire = open ? fireable(lines, order.firedCourses) : [];
  // Lines by seat (shared last) when the order has seats, otherwise as entered; by
  // course within each when it has courses.
  const ordered = showCourses ? [...lines].sort((a, b) => a.course - b.course) : lines;
  const groups: [string, typeof lines][] =
    seats.length > 0
      ? [...seats.map((n) => [`Seat ${n}`, n] as const), ["Shared", 0] as const]
          .map(([label, n]): [string, typeof lines] => [label, ordered.filter((l) => l.seat === n)])
          .filter(([, ls]) => ls.length > 0)
      : [["", ordered]];

  const refundLeft = order ? order.payments.reduce((sum, p) => sum + refundable(p), 0n) : 0n;
  const refunded = order ? refundedOf(order) : 0n;
  const newOrder = () => {
    setOrder(null);
    setPaidParts([]);
    setMode("counter");
  };
  const shortcuts: Record<string, () => void> = {
    o: () => setMode("counter"),
    t: () => setMode("tables"),
    h: () => setMode("orders"),
    ...(open && order.total > 0n && !busy ? { p: () => setPaying(true) } : {}),
    ...(order && unsent > 0 && order.status !== OrderStatus.VOIDED && !busy ? { s: () => void send(order) } : {}),
    ...(order && order.status !== OrderStatus.VOIDED ? { r: () => setActing({ kind: "receipt" }) } : {}),
    ...(order && !open ? { n: newOrder } : {}),
  };
  const key = (k: string) => <kbd aria-hidden="true">{k.toUpperCase()}</kbd>;

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
          <button role="tab" aria-selected={mode === "orders"} class={mode === "orders" ? "on" : ""} onClick={() => setMode("orders")}>
            History
          </button>
        </div>
        <a class="ghost navlink" href="/kitchen">
          Kitchen
        </a>
        {may(session, Permission.REPORTS) && (
          <a class="ghost navlink" href="/office">
            Back office
          </a>
        )}
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
      {mode === "orders" && (
        <Orders
          money={money}
          current={order?.id}
          changed={changed}
          onError={fail}
          onPick={(o) => {
            setOrder(o);
            startPickers(o.guests);
          }}
        />
      )}
      <nav class="categories" aria-label="Categories" hidden={mode !== "counter"}>
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

      <section class="items" aria-label="Menu" hidden={mode !== "counter"}>
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
        {order && order.conflicts.length > 0 && (
          <p class="conflict-note" role="alert" data-testid="order-conflicts">
            Needs a manager: {order.conflicts.join("; ")}. It happened while registers were
            apart; nothing was dropped.
          </p>
        )}
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
        {open && order.table.length > 0 && (
          <div class="seats courses" role="group" aria-label="Course for new items">
            <span class="picker-label" aria-hidden="true">
              Course
            </span>
            {courseChoices(lines).map((n) => (
              <button
                key={n}
                class={course === n ? "tab on" : "tab"}
                aria-pressed={course === n}
                aria-label={`Course ${n}`}
                onClick={() => setCourse(n)}
              >
                {n}
              </button>
            ))}
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
            <li
              key={l.id.join(",")}
              class={l.sent ? "line sent" : "line"}
              {...(open
                ? {
                    role: "button",
                    tabIndex: 0,
                    "aria-label": `Line ${l.item?.name ?? ""}`,
                    onClick: () => setActing({ kind: "line", line: l }),
                    onKeyDown: (e: KeyboardEvent) => e.key === "Enter" && setActing({ kind: "line", line: l }),
                  }
                : {})}
            >
              <span class="qty">{l.item?.quantity}×</span>
              <span class="what">
                {l.item?.name}
                {l.item?.variantName && <small> · {l.item.variantName}</small>}
                {l.item?.modifiers.map((m) => (
                  <small class="mod">+ {m.name}</small>
                ))}
                {l.note && <small class="note">“{l.note}”</small>}
                {showCourses && <CourseMark course={l.course} state={courseState(l.course, lines, order?.firedCourses ?? [])} />}
                {l.sent && <small class="sent-mark">{l.readyAt !== 0n ? "ready ✓" : "sent ✓"}</small>}
              </span>
              <span class="amount">
                {money(l.gross)}
                {l.discount > 0n && <small class="off">{money(l.discount)} off</small>}
              </span>
            </li>
            )),
          ])}
          {lines.length === 0 && <li class="muted empty">Tap an item to start an order.</li>}
        </ol>
        {order && (
          <dl class="totals">
            {order.taxes.map((t) => (
              <>
                <dt>Tax {percentText(t.ratePpm)}%</dt>
                <dd>{money(t.amount)}</dd>
              </>
            ))}
            {order.discounts > 0n && (
              <>
                <dt>Discounts</dt>
                <dd>−{money(order.discounts)}</dd>
              </>
            )}
            {order.paid + refunded > 0n && (
              <>
                <dt>Paid</dt>
                <dd>{money(order.paid + refunded)}</dd>
              </>
            )}
            {refunded > 0n && (
              <>
                <dt>Refunded</dt>
                <dd data-testid="refunded">−{money(refunded)}</dd>
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
        {notice && (
          <div class="notice" role="status">
            {notice}
          </div>
        )}
        {error && (
          <div class="error" role="alert">
            {error}
            {pending && (
              <span class="pending-actions">
                <small>It is sent again when the connection is back.</small>
                <button class="small" disabled={busy} onClick={() => void run(pending.what, pending.send)}>
                  Retry {pending.what}
                </button>
                <button
                  class="small"
                  onClick={() => {
                    pendingNow.current = null;
                    setPending(null);
                    setError("");
                  }}
                >
                  Discard
                </button>
              </span>
            )}
          </div>
        )}
        {order && order.status !== OrderStatus.VOIDED && (
          <div class="order-tools" role="group" aria-label="Order tools">
            {open && order.total > 0n && (
              <button class="ghost" onClick={() => setActing({ kind: "discount" })}>
                Discount
              </button>
            )}
            {open && order.payments.length === 0 && (
              <button class="ghost" onClick={() => setActing({ kind: "void-order" })}>
                Void order
              </button>
            )}
            {refundLeft > 0n && (
              <button class="ghost" onClick={() => setActing({ kind: "refund" })}>
                Refund
              </button>
            )}
            <button class="ghost" onClick={() => setActing({ kind: "receipt" })}>
              {open ? "Bill" : "Receipt"} {key("r")}
            </button>
          </div>
        )}
        <div class="actions">
          {order && unsent > 0 && order.status !== OrderStatus.VOIDED && (
            <button class="ghost big send" disabled={busy} onClick={() => void send(order)}>
              Send to kitchen ({unsent}) {key("s")}
            </button>
          )}
          {toFire.length > 0 && order && (
            <div class="fire-row">
              {toFire.map((c) => (
                <button key={c} class="ghost big fire" disabled={busy} onClick={() => void fire(order, c)}>
                  Fire course {c}
                </button>
              ))}
            </div>
          )}
          {open && order.total > 0n && (seats.length > 0 || lines.length > 1) && (
            <button class="ghost big" disabled={busy} onClick={() => setSplitting(true)}>
              Split the bill
            </button>
          )}
          {open ? (
            <button class="primary big" disabled={busy} onClick={() => setPaying(true)}>
              Pay {money(order.balance)} {key("p")}
            </button>
          ) : (
            order && (
              <button class="primary big" onClick={newOrder}>
                New order {key("n")}
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
      {acting?.kind === "line" && (
        <LineActions
          line={acting.line}
          money={money}
          onCancel={() => setActing(null)}
          onVoid={() => setActing({ kind: "void-line", line: acting.line })}
          onDiscount={() => setActing({ kind: "discount", line: acting.line })}
        />
      )}
      {acting?.kind === "void-line" && order && (
        <VoidDialog
          title={`Void ${acting.line.item?.name ?? "line"}`}
          detail={
            acting.line.sent
              ? "The kitchen has this line: it is told, and a manager must approve unless you are one."
              : "Not sent yet: it just comes off the order."
          }
          onCancel={() => setActing(null)}
          onVoid={(reason) => voidLine(order, acting.line, reason)}
        />
      )}
      {acting?.kind === "discount" && order && (
        <DiscountDialog
          title={acting.line ? `Discount ${acting.line.item?.name ?? "line"}` : `Discount order ${order.number}`}
          base={acting.line ? acting.line.beforeDiscounts : order.beforeDiscounts}
          currency={session.currency}
          onCancel={() => setActing(null)}
          onApply={(kind, reason) => discount(order, acting.line, kind, reason)}
        />
      )}
      {acting?.kind === "void-order" && order && (
        <VoidDialog
          title={`Void order ${order.number}`}
          detail={`${lines.length} lines, ${money(order.total)}. Nothing is charged; the kitchen is told.`}
          onCancel={() => setActing(null)}
          onVoid={(reason) => voidOrder(order, reason)}
        />
      )}
      {acting?.kind === "refund" && order && (
        <RefundDialog
          order={order}
          currency={session.currency}
          onCancel={() => setActing(null)}
          onRefund={(p, amount, reason) => refund(order, p.id, amount, reason)}
        />
      )}
      {acting?.kind === "receipt" && order && <Receipt order={order} onClose={() => setActing(null)} />}
      {approval && (
        <Approve
          what={approval.what}
          permission={approval.permission}
          onCancel={() => setApproval(null)}
          onApproved={(token) => {
            const a = approval;
            setApproval(null);
            // The manager's session, not the cashier's: if the node no longer takes it,
            // the approval is asked for again and the cashier stays signed in.
            void run(a.what, () =>
              a.send(as(token)).catch((e: unknown) => {
                throw isSessionGone(e)
                  ? new ConnectError("The manager's approval has expired: ask for it again.", Code.PermissionDenied)
                  : e;
              }),
            );
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
            setChanged((n) => n + 1);
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

/** A line's course on the ticket, and whether the kitchen holds it or was told to fire it. */
function CourseMark({ course, state }: { course: number; state: CourseState }) {
  const said = state === "held" ? " · hold" : state === "fired" ? " · fired" : "";
  return (
    <small class={`course-mark ${state}`}>
      Course {course}
      {said}
    </small>
  );
}
