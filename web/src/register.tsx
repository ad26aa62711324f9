import { useEffect, useRef, useState } from "preact/hooks";
import { Channel, type Category } from "../gen/mpos/v1/events_pb";
import {
  OrderStatus,
  type MenuItemView,
  type MenuView,
  type OrderReply,
  type OrderView,
} from "../gen/mpos/v1/pos_pb";
import { explain, isLost, isSessionGone, pos, roleName, type Session } from "./api";
import { hex, newId } from "./ids";
import { Choose, type Choice } from "./choose";
import { Pay } from "./pay";
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

  // Keyboard: "/" searches, Escape clears the search or closes a dialog.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "/" && document.activeElement !== search.current) {
        e.preventDefault();
        search.current?.focus();
      } else if (e.key === "Escape") {
        if (choosing) setChoosing(null);
        else if (paying) setPaying(false);
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
      seat: 0,
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

  const open = order && order.status === OrderStatus.OPEN;
  const lines = order?.lines.filter((l) => !l.voided) ?? [];

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
        <span class="who">
          {session.name} · {roleName[session.role]}
        </span>
        <button class="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>

      <nav class="categories" aria-label="Categories">
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

      <section class="items" aria-label="Menu">
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

      <aside class="ticket" aria-label="Ticket">
        <header>
          <h2>{order ? `Order ${order.number}` : "New order"}</h2>
          {order && (
            <span class={`status ${OrderStatus[order.status].toLowerCase()}`}>
              {OrderStatus[order.status].toLowerCase()}
            </span>
          )}
        </header>
        <ol class="lines">
          {lines.map((l) => (
            <li key={l.id.join(",")} class="line">
              <span class="qty">{l.item?.quantity}×</span>
              <span class="what">
                {l.item?.name}
                {l.item?.variantName && <small> · {l.item.variantName}</small>}
                {l.item?.modifiers.map((m) => (
                  <small class="mod">+ {m.name}</small>
                ))}
                {l.note && <small class="note">“{l.note}”</small>}
              </span>
              <span class="amount">{money(l.gross)}</span>
            </li>
          ))}
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
          {open ? (
            <button class="primary big" disabled={busy} onClick={() => setPaying(true)}>
              Pay {money(order.balance)}
            </button>
          ) : (
            order && (
              <button class="primary big" onClick={() => setOrder(null)}>
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
      {paying && order && (
        <Pay
          order={order}
          currency={session.currency}
          onClose={() => setPaying(false)}
          onPaid={(o) => setOrder(o)}
          onSessionGone={onSignOut}
        />
      )}
    </div>
  );
}
