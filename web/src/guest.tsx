import { useEffect, useRef, useState } from "preact/hooks";
import { Channel, type Category } from "../gen/mpos/v1/events_pb";
import type { GuestOrderView, GuestTableView } from "../gen/mpos/v1/guest_pb";
import { KitchenStatus, OrderStatus, type MenuItemView } from "../gen/mpos/v1/pos_pb";
import { explain, guest, isLost, keepLive, type Link } from "./api";
import { Choose, type Choice } from "./choose";
import { fromHex, hex, newId } from "./ids";
import { formatMoney } from "./money";
import { priceOn } from "./prices";

/** One line of the cart: what the guest chose, before it is sent. */
export interface CartLine {
  key: string;
  view: MenuItemView;
  choice: Choice;
  quantity: number;
  /** The price of one, with the chosen variant and modifiers. */
  unit: bigint;
}

/** The unit price of a choice at the table. */
export function unitPrice(view: MenuItemView, choice: Choice): bigint {
  let price = priceOn(view, Channel.TABLE);
  const item = view.item;
  const v = item?.variants.find((x) => choice.variant && hex(x.id) === hex(choice.variant));
  if (v) price += v.priceDelta;
  for (const g of view.modifierGroups)
    for (const o of g.options) if (choice.modifiers.some((m) => hex(m) === hex(o.id))) price += o.priceDelta;
  return price;
}

/** Adds a choice to the cart: the same item with the same options adds up on one line. */
export function addToCart(cart: CartLine[], view: MenuItemView, choice: Choice): CartLine[] {
  const key = [
    hex(view.item?.id ?? new Uint8Array()),
    hex(choice.variant ?? new Uint8Array()),
    ...choice.modifiers.map(hex).sort(),
    choice.note,
  ].join("|");
  const same = cart.find((l) => l.key === key);
  if (same) return cart.map((l) => (l === same ? { ...l, quantity: l.quantity + 1 } : l));
  return [...cart, { key, view, choice, quantity: 1, unit: unitPrice(view, choice) }];
}

export function cartTotal(cart: CartLine[]): bigint {
  return cart.reduce((sum, l) => sum + l.unit * BigInt(l.quantity), 0n);
}

/** A tidy placeholder for an item's photo: its initials on the category's colour. */
function Placeholder({ name, hue }: { name: string; hue: number }) {
  const initials = name
    .split(/\s+/)
    .filter((w) => /^[A-Za-zÀ-ÿ]/.test(w))
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join("");
  return (
    <div class="photo" style={{ background: `linear-gradient(135deg, hsl(${hue} 70% 86%), hsl(${hue + 30} 65% 72%))` }} aria-hidden="true">
      <span style={{ color: `hsl(${hue} 45% 30%)` }}>{initials}</span>
    </div>
  );
}

const storageKey = (token: string) => `mpos.guest.${token}`;

/** What the guest sees of their order's progress. */
export function progress(o: GuestOrderView["order"]): { label: string; tone: string } {
  if (!o) return { label: "", tone: "" };
  if (o.status === OrderStatus.VOIDED) return { label: "Cancelled by the staff", tone: "bad" };
  if (o.kitchen === KitchenStatus.READY) return { label: "Ready: on its way to your table", tone: "ok" };
  if (o.kitchen === KitchenStatus.PREPARING) return { label: "The kitchen is preparing it", tone: "wait" };
  if (o.status === OrderStatus.CLOSED) return { label: "Paid, thank you", tone: "ok" };
  return { label: "Received", tone: "wait" };
}

/** The self-ordering menu a table's QR code opens: browse, choose, send, follow. */
export function GuestMenu({ token }: { token: string }) {
  const [table, setTable] = useState<GuestTableView | null>(null);
  const [category, setCategory] = useState<Category | null>(null);
  const [items, setItems] = useState<MenuItemView[]>([]);
  const [choosing, setChoosing] = useState<MenuItemView | null>(null);
  const [cart, setCart] = useState<CartLine[]>([]);
  const [showCart, setShowCart] = useState(false);
  const [order, setOrder] = useState<GuestOrderView | null>(null);
  const [link, setLink] = useState<Link>("connecting");
  const [error, setError] = useState("");
  const [lost, setLost] = useState(false);
  const [busy, setBusy] = useState(false);
  // The ids of the last send: kept only to retry the same cart after a lost answer.
  const attempt = useRef<{ key: string; request: Uint8Array; lines: Uint8Array[] } | null>(null);
  const money = (m: bigint) => formatMoney(m, table?.currency ?? "EUR");

  useEffect(() => {
    guest
      .getTable({ token })
      .then((t) => {
        setTable(t);
        setCategory(t.categories[0] ?? null);
      })
      .catch((e) => setError(explain(e)));
  }, [token]);

  useEffect(() => {
    if (!category) return;
    let stale = false;
    guest
      .listItems({ token, category: category.id })
      .then((r) => {
        if (!stale) setItems(r.items);
      })
      .catch((e) => setError(explain(e)));
    return () => {
      stale = true;
    };
  }, [category]);

  // The order this phone placed at this table, followed live.
  const [orderId, setOrderId] = useState<Uint8Array | null>(() => fromHex(localStorage.getItem(storageKey(token)) ?? "x"));
  useEffect(() => {
    if (!orderId) return;
    return keepLive(
      (signal) => guest.watchOrder({ token, order: orderId }, { signal }),
      (v) => setOrder(v),
      (l) => setLink(l),
      () => {
        // Not this table's (any more): start afresh.
        localStorage.removeItem(storageKey(token));
        setOrderId(null);
        setOrder(null);
      },
    );
  }, [orderId && hex(orderId)]);

  const tap = (view: MenuItemView) => {
    const item = view.item;
    if (!item?.available) return;
    if (item.variants.length > 0 || view.modifierGroups.length > 0) setChoosing(view);
    else setCart((c) => addToCart(c, view, { modifiers: [], note: "" }));
  };

  const change = (line: CartLine, by: number) =>
    setCart((c) =>
      c.flatMap((l) => (l !== line ? [l] : l.quantity + by <= 0 ? [] : [{ ...l, quantity: l.quantity + by }])),
    );

  const send = async () => {
    if (cart.length === 0 || busy) return;
    // A round adds to this phone's order while it is open; otherwise it opens a new one.
    const open = order?.order && order.order.status === OrderStatus.OPEN && orderId;
    const target = open ? orderId : newId();
    const key = hex(target) + cart.map((l) => `${l.key}x${l.quantity}`).join(",");
    if (attempt.current?.key !== key) {
      attempt.current = { key, request: newId(), lines: cart.map(() => newId()) };
    }
    const ids = attempt.current;
    setBusy(true);
    setError("");
    setLost(false);
    try {
      const r = await guest.placeOrder({
        token,
        requestId: ids.request,
        order: target,
        lines: cart.map((l, i) => ({
          line: ids.lines[i],
          item: l.view.item?.id,
          variant: l.choice.variant ?? new Uint8Array(),
          modifiers: l.choice.modifiers,
          quantity: l.quantity,
          note: l.choice.note,
        })),
      });
      attempt.current = null;
      localStorage.setItem(storageKey(token), hex(target));
      setOrder(r);
      setOrderId(target);
      // The sheet stays open on the order just sent: the guest sees it was received.
      setCart([]);
    } catch (e) {
      // Lost on the way: the same cart is sent again with the same ids, and applied once.
      if (!isLost(e)) attempt.current = null;
      setLost(isLost(e));
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };

  if (error && !table) {
    return (
      <div class="guest">
        <div class="guest-gone">
          <span class="logo">M</span>
          <h1>This table link does not work</h1>
          <p role="alert">{error}</p>
        </div>
      </div>
    );
  }

  const count = cart.reduce((n, l) => n + l.quantity, 0);
  const placed = order?.order;
  const state = progress(placed);
  const hueOf = (c: Category | null) => ((table?.categories.findIndex((x) => x === c) ?? 0) * 67 + 20) % 360;

  return (
    <div class="guest">
      <header class="guest-head">
        <div>
          <h1>{table?.restaurant ?? "…"}</h1>
          <p class="muted">Table {table?.table}</p>
        </div>
        {placed && (
          <button class={`order-state ${state.tone}`} onClick={() => setShowCart(true)} data-testid="order-state">
            {state.label}
          </button>
        )}
      </header>
      <nav class="categories guest-cats" aria-label="Categories">
        {table?.categories.map((c) => (
          <button key={c.name} class={category?.name === c.name ? "tab on" : "tab"} onClick={() => setCategory(c)}>
            {c.name}
          </button>
        ))}
      </nav>
      <main class="guest-items" aria-label="Menu">
        {items.map((v) => {
          const item = v.item;
          if (!item) return null;
          return (
            <button
              key={item.name}
              class={item.available ? "dish" : "dish out"}
              disabled={!item.available}
              onClick={() => tap(v)}
              aria-label={`${item.name}${item.available ? "" : " (sold out)"}`}
            >
              <Placeholder name={item.name} hue={hueOf(category)} />
              <span class="dish-text">
                <span class="name">{item.name}</span>
                {item.description && <span class="desc">{item.description}</span>}
                <span class="price">{money(priceOn(v, Channel.TABLE))}</span>
              </span>
              {!item.available && <span class="badge">Sold out</span>}
            </button>
          );
        })}
      </main>

      {(count > 0 || placed) && !showCart && (
        <button class="primary cart-bar" onClick={() => setShowCart(true)}>
          {count > 0 ? (
            <>
              <span>Your order · {count} item{count === 1 ? "" : "s"}</span>
              <strong>{money(cartTotal(cart))}</strong>
            </>
          ) : (
            <span>See your order</span>
          )}
        </button>
      )}

      {showCart && (
        <div class="scrim" onClick={() => setShowCart(false)}>
          <div class="dialog sheet" role="dialog" aria-label="Your order" onClick={(e) => e.stopPropagation()}>
            <header>
              <h2>Your order</h2>
            </header>
            {cart.length > 0 && (
              <ul class="cart">
                {cart.map((l) => (
                  <li key={l.key}>
                    <span class="what">
                      {l.view.item?.name}
                      {l.choice.note && <small>“{l.choice.note}”</small>}
                    </span>
                    <span class="stepper">
                      <button aria-label={`One less ${l.view.item?.name}`} onClick={() => change(l, -1)}>
                        −
                      </button>
                      <span>{l.quantity}</span>
                      <button aria-label={`One more ${l.view.item?.name}`} onClick={() => change(l, 1)}>
                        +
                      </button>
                    </span>
                    <span class="amount">{money(l.unit * BigInt(l.quantity))}</span>
                  </li>
                ))}
              </ul>
            )}
            {cart.length > 0 && (
              <button class="primary big" disabled={busy} onClick={() => void send()}>
                {busy ? "Sending…" : `Send to the kitchen · ${money(cartTotal(cart))}`}
              </button>
            )}
            {error && (
              <p class="error" role="alert">
                {error}
                {lost && (
                  <button class="small" onClick={() => void send()}>
                    Try again
                  </button>
                )}
              </p>
            )}
            {placed && (
              <section class="placed" aria-label="Sent to the kitchen">
                <h3>
                  Order {placed.number} <span class={`order-state ${state.tone}`}>{state.label}</span>
                </h3>
                <ul>
                  {placed.lines
                    .filter((l) => !l.voided)
                    .map((l) => (
                      <li key={hex(l.id)}>
                        {l.item?.quantity}× {l.item?.name}
                        {l.readyAt !== 0n && <span class="ok"> ✓ ready</span>}
                      </li>
                    ))}
                </ul>
                <p class="muted">
                  Total {money(placed.total)} · pay at the counter or ask your server.
                  {link === "reconnecting" && " Reconnecting…"}
                </p>
              </section>
            )}
            <button class="ghost" onClick={() => setShowCart(false)}>
              Back to the menu
            </button>
          </div>
        </div>
      )}

      {choosing && (
        <Choose
          view={choosing}
          money={money}
          channel={Channel.TABLE}
          action="Add to order"
          onCancel={() => setChoosing(null)}
          onChoose={(c) => {
            setCart((cart) => addToCart(cart, choosing, c));
            setChoosing(null);
          }}
        />
      )}
    </div>
  );
}
