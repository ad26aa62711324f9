// The back office's stock screen: levels at every location side by side, and the
// movements a manager or a cook records from it (a delivery received, a count, waste, a
// transfer sent and received). Every change goes to the node as one ChangeStock request.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { useEffect, useRef, useState } from "preact/hooks";
import type { StockItem, StockUnit } from "../gen/mpos/v1/events_pb";
import {
  Permission,
  type ChangeStockRequestSchema,
  type StockLevel,
  type StockView,
  type TransferView,
} from "../gen/mpos/v1/pos_pb";
import { explain, may, pos } from "./api";
import { Dialog } from "./dialog";
import { hex, newId, sameId } from "./ids";
import { asSent, formatQuantity, levelAt, parseCounted, parseQuantity, stockGrid, stockLines, unitName } from "./inventory";
import { parseMoney } from "./money";
import { ago, lastHeardByLocation } from "./nodes";
import type { OfficeProps } from "./office";

type Change = MessageInitShape<typeof ChangeStockRequestSchema>["change"];

/** A movement at one location, started from the toolbar or from an item's row. */
type Movement = { kind: "receive" | "count" | "waste"; location?: Uint8Array; item?: Uint8Array };

type Open = Movement | { kind: "transfer" } | { kind: "arrive"; transfer: TransferView } | null;

export function Stock({ session, money, fail }: OfficeProps) {
  const [view, setView] = useState<StockView | null>(null);
  // Empty: every trading location.
  const [place, setPlace] = useState("");
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState("");
  // When each location was last heard from, for roles that may see the organization's
  // nodes (others see the stock alone).
  const [heard, setHeard] = useState<Map<string, bigint>>(new Map());
  const load = () =>
    pos
      .getStock({})
      .then(setView)
      .catch(fail);
  useEffect(() => {
    void load();
    if (may(session, Permission.REPORTS)) {
      pos
        .listNodes({})
        .then((r) => setHeard(lastHeardByLocation(r.nodes)))
        .catch(() => setHeard(new Map()));
    }
  }, []);
  if (!view) return <section class="office-section" aria-label="Stock" aria-busy="true" />;
  const chosen = view.locations.find((l) => hex(l.location) === place);
  const grid = stockGrid(view, chosen?.location);
  const mayMove = may(session, Permission.STOCK);
  const done = (message: string) => {
    setOpen(null);
    setNotice(message);
    void load();
  };
  const trading = view.locations.filter((l) => l.active);
  const totalValue = trading.reduce((sum, l) => sum + l.value, 0n);
  const totalLow = trading.reduce((sum, l) => sum + l.low, 0);
  const orders = view.purchaseOrders.filter((p) => p.status !== "received");
  return (
    <section class="office-section stock" aria-label="Stock">
      <header class="section-head">
        <h1>Stock</h1>
        {mayMove && (
          <div class="chips">
            <button class="primary" onClick={() => setOpen({ kind: "receive", location: chosen?.location })}>
              Receive delivery
            </button>
            <button class="tab" onClick={() => setOpen({ kind: "count", location: chosen?.location })}>
              Count
            </button>
            <button class="tab" onClick={() => setOpen({ kind: "waste", location: chosen?.location })}>
              Waste
            </button>
            <button class="tab" onClick={() => setOpen({ kind: "transfer" })} disabled={trading.length < 2}>
              Transfer
            </button>
          </div>
        )}
      </header>
      {notice && (
        <p class="notice" role="status">
          {notice}
          <button class="small ghost" onClick={() => setNotice("")}>
            Dismiss
          </button>
        </p>
      )}
      {view.locations.length === 0 ? (
        <p class="muted">No locations yet: add one with `mpos stock location NAME`.</p>
      ) : (
        <div class="cards places" role="tablist" aria-label="Location">
          <button role="tab" aria-selected={place === ""} class={place === "" ? "card place on" : "card place"} onClick={() => setPlace("")}>
            <small>All locations</small>
            <strong>{money(totalValue)}</strong>
            <span class={totalLow > 0 ? "low-count" : "muted"}>{totalLow > 0 ? `${totalLow} below par` : "nothing below par"}</span>
          </button>
          {view.locations.map((l) => (
            <button
              key={hex(l.location)}
              role="tab"
              aria-selected={place === hex(l.location)}
              class={`card place${place === hex(l.location) ? " on" : ""}${l.active ? "" : " closed"}`}
              onClick={() => setPlace(hex(l.location))}
            >
              <small>{l.active ? l.name : `${l.name} (closed)`}</small>
              <strong>{money(l.value)}</strong>
              <span class={l.low > 0 ? "low-count" : "muted"}>{l.low > 0 ? `${l.low} below par` : "nothing below par"}</span>
              {heard.has(hex(l.location)) && (
                <span class="muted heard" data-testid={`heard-${l.name}`}>
                  heard from {ago(Date.now(), heard.get(hex(l.location)) ?? 0n)}
                </span>
              )}
            </button>
          ))}
        </div>
      )}
      {grid.rows.length > 0 && (
        <table class="report-table stock-grid" aria-label={chosen ? `Stock at ${chosen.name}` : "Stock at every location"}>
          <thead>
            <tr>
              <th>Item</th>
              {grid.locations.map((l) => (
                <th key={hex(l.id)} class="num">
                  {chosen ? "On hand" : l.name}
                </th>
              ))}
              {grid.locations.length > 1 && <th class="num">Total</th>}
              <th class="num">At cost</th>
              {chosen && mayMove && <th />}
            </tr>
          </thead>
          <tbody>
            {grid.rows.map((row) => (
              <tr key={hex(row.item.id)} data-testid={`stock-${row.item.name}`}>
                <td>
                  <strong>{row.item.name}</strong>
                  {row.low && <span class="badge low">low</span>}
                </td>
                {row.cells.map((c, i) => (
                  <LevelCell key={i} level={c} unit={row.item.unit} />
                ))}
                {grid.locations.length > 1 && <td class="num total">{formatQuantity(row.total, row.item.unit)}</td>}
                <td class="num">{money(row.value)}</td>
                {chosen && mayMove && (
                  <td class="row-actions">
                    <button class="ghost" onClick={() => setOpen({ kind: "receive", location: chosen.location, item: row.item.id })}>
                      Receive
                    </button>
                    <button class="ghost" onClick={() => setOpen({ kind: "count", location: chosen.location, item: row.item.id })}>
                      Count
                    </button>
                    <button class="ghost" onClick={() => setOpen({ kind: "waste", location: chosen.location, item: row.item.id })}>
                      Waste
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.locations.length > 0 && grid.rows.length === 0 && <p class="muted">Nothing in stock here yet.</p>}
      {view.inTransit.length > 0 && (
        <>
          <h2>On the way</h2>
          <ul class="entry-list">
            {view.inTransit.map((t) => (
              <li key={hex(t.id)} data-testid={`transfer-${t.toName}`}>
                <span>
                  <strong>
                    {t.fromName} → {t.toName}
                  </strong>
                  <br />
                  <span class="muted">{t.lines.map((l) => `${l.quantity} ${l.itemName}`).join(", ")}</span>
                </span>
                {mayMove && (
                  <button class="primary" onClick={() => setOpen({ kind: "arrive", transfer: t })}>
                    Arrived…
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {view.disputed.length > 0 && (
        <>
          <h2>Arrivals to check</h2>
          <ul class="entry-list">
            {view.disputed.map((t) => (
              <li key={hex(t.id)} data-testid={`disputed-${t.toName}`}>
                <span>
                  <strong>
                    {t.fromName} → {t.toName}
                  </strong>
                  <br />
                  <span class="muted">
                    Two registers recorded this arrival differently. Kept (recorded first):{" "}
                    {stockLines(t.received)}; sent: {stockLines(t.sent)}. Counting these items at {t.toName} settles it.
                  </span>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {orders.length > 0 && (
        <>
          <h2>Purchase orders</h2>
          <table class="report-table" aria-label="Purchase orders">
            <thead>
              <tr>
                <th>Supplier</th>
                <th>For</th>
                <th>Status</th>
                <th>Lines</th>
                <th class="num">Cost</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((p) => (
                <tr key={hex(p.id)}>
                  <td>{p.supplierName}</td>
                  <td>{p.locationName}</td>
                  <td>
                    <span class={`status po-${p.status.replace(/\s+/g, "-")}`}>{p.status}</span>
                  </td>
                  <td class="muted">
                    {p.lines.map((l) => `${l.quantity} ${l.itemName}${l.received.startsWith("0 ") ? "" : ` (${l.received} in)`}`).join(", ")}
                  </td>
                  <td class="num">{money(p.lines.reduce((sum, l) => sum + l.cost, 0n))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {open && (open.kind === "receive" || open.kind === "count" || open.kind === "waste") && (
        <MovementDialog view={view} movement={open} currency={session.currency} onCancel={() => setOpen(null)} onDone={done} />
      )}
      {open?.kind === "transfer" && <TransferDialog view={view} onCancel={() => setOpen(null)} onDone={done} />}
      {open?.kind === "arrive" && (
        <ArrivalDialog view={view} transfer={open.transfer} onCancel={() => setOpen(null)} onDone={done} />
      )}
    </section>
  );
}

function LevelCell({ level, unit }: { level: StockLevel | undefined; unit: StockUnit }) {
  if (!level) return <td class="num muted">—</td>;
  return (
    <td class={level.low || level.milli < 0n ? "num bad" : "num"}>
      {formatQuantity(level.milli, unit)}
      {level.par !== undefined && <small class="par">par {formatQuantity(level.par, unit)}</small>}
      {level.inTransit !== 0n && <small class="transit">+{formatQuantity(level.inTransit, unit)} on the way</small>}
    </td>
  );
}

/** Sends one change with an id kept for the dialog's life: a double tap or retry applies once. */
function useChange(onError: (message: string) => void) {
  const requestId = useRef(newId());
  const [busy, setBusy] = useState(false);
  const send = async (change: Change) => {
    if (busy) return null;
    setBusy(true);
    onError("");
    try {
      return await pos.changeStock({ requestId: requestId.current, change });
    } catch (e) {
      onError(explain(e));
      return null;
    } finally {
      setBusy(false);
    }
  };
  return { send, busy };
}

function Footer({ busy, ok, label, onCancel }: { busy: boolean; ok: boolean; label: string; onCancel: () => void }) {
  return (
    <footer>
      <button type="button" class="ghost" onClick={onCancel}>
        Cancel
      </button>
      <button class="primary" disabled={busy || !ok}>
        {label}
      </button>
    </footer>
  );
}

function Problem({ error }: { error: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

function LocationPicker({
  label,
  view,
  value,
  onChange,
}: {
  label: string;
  view: StockView;
  value: string;
  onChange: (hex: string) => void;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} required>
        <option value="" disabled>
          Choose…
        </option>
        {view.locations
          .filter((l) => l.active)
          .map((l) => (
            <option key={hex(l.location)} value={hex(l.location)}>
              {l.name}
            </option>
          ))}
      </select>
    </label>
  );
}

function ItemPicker({ label, items, value, onChange }: { label: string; items: StockItem[]; value: string; onChange: (hex: string) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} required>
        <option value="" disabled>
          Choose…
        </option>
        {items
          .filter((i) => i.active)
          .map((i) => (
            <option key={hex(i.id)} value={hex(i.id)}>
              {i.name} ({unitName[i.unit]})
            </option>
          ))}
      </select>
    </label>
  );
}

const TITLES = { receive: "Receive a delivery", count: "Count stock", waste: "Record waste" };

function MovementDialog({
  view,
  movement,
  currency,
  onCancel,
  onDone,
}: {
  view: StockView;
  movement: Movement;
  currency: string;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const kind = movement.kind;
  const [location, setLocation] = useState(movement.location ? hex(movement.location) : hex(view.locations.find((l) => l.active)?.location ?? new Uint8Array()));
  const [itemHex, setItemHex] = useState(movement.item ? hex(movement.item) : "");
  const [amount, setAmount] = useState("");
  const [cost, setCost] = useState("");
  const [supplier, setSupplier] = useState("");
  const [lot, setLot] = useState("");
  const [po, setPo] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const { send, busy } = useChange(setError);
  const item = view.items.find((i) => hex(i.id) === itemHex);
  const milli = item ? parseQuantity(amount, item.unit) : null;
  const costMinor = cost.trim() === "" ? null : parseMoney(cost, currency);
  const here = levelAt(view, location, itemHex);
  // Orders sent to this location for this item, to receive against.
  const openOrders = view.purchaseOrders.filter(
    (p) =>
      hex(p.location) === location &&
      (p.status === "sent" || p.status === "partially received") &&
      p.lines.some((l) => hex(l.item) === itemHex),
  );
  // A count may find none at all; every other movement is of something.
  const counted = item && kind === "count" ? parseCounted(amount, item.unit) : milli;
  const ok =
    item !== undefined &&
    location !== "" &&
    counted !== null &&
    (kind !== "receive" || costMinor !== null) &&
    (kind !== "waste" || reason.trim() !== "");
  const submit = async () => {
    if (!ok || !item || counted === null) return;
    const at = view.locations.find((l) => hex(l.location) === location)?.location ?? new Uint8Array();
    const quantity = formatQuantity(counted, item.unit);
    const change: Change =
      kind === "receive"
        ? {
            case: "receive",
            value: {
              location: at,
              item: item.id,
              quantity,
              cost: costMinor ?? 0n,
              supplier: view.suppliers.find((s) => hex(s.id) === supplier)?.id ?? new Uint8Array(),
              lot: lot.trim(),
              purchaseOrder: openOrders.find((p) => hex(p.id) === po)?.id ?? new Uint8Array(),
            },
          }
        : kind === "count"
          ? { case: "count", value: { location: at, item: item.id, counted: quantity } }
          : { case: "waste", value: { location: at, item: item.id, quantity, reason: reason.trim() } };
    const reply = await send(change);
    if (!reply) return;
    const place = view.locations.find((l) => hex(l.location) === location)?.name ?? "";
    const now = reply.levels.find((l) => sameId(l.item, item.id))?.quantity ?? quantity;
    onDone(
      kind === "count"
        ? `Counted ${quantity} of ${item.name} at ${place}: ${reply.variance.startsWith("-") ? "" : "+"}${reply.variance} against the books.`
        : `${kind === "receive" ? "Received" : "Wasted"} ${quantity} of ${item.name} at ${place}; ${now} on hand.`,
    );
  };
  return (
    <Dialog label={TITLES[kind]} class="editor" onCancel={onCancel} onSubmit={() => void submit()}>
      <header>
        <h2>{TITLES[kind]}</h2>
        {here && item && (
          <p class="muted">
            The books say {formatQuantity(here.milli, item.unit)} {item.name} at {view.locations[here.location]?.name}.
          </p>
        )}
      </header>
      <div class="form-grid">
        <LocationPicker label="Location" view={view} value={location} onChange={setLocation} />
        <ItemPicker label="Item" items={view.items} value={itemHex} onChange={setItemHex} />
        <label>
          {kind === "count" ? "Counted" : "Quantity"}
          {item ? ` (${unitName[item.unit]})` : ""}
          <input inputMode="decimal" autoFocus value={amount} onInput={(e) => setAmount(e.currentTarget.value)} aria-invalid={amount !== "" && counted === null} />
        </label>
        {kind === "receive" && (
          <>
            <label>
              Paid, in all ({currency})
              <input inputMode="decimal" placeholder="0.00" value={cost} onInput={(e) => setCost(e.currentTarget.value)} aria-invalid={cost !== "" && costMinor === null} />
            </label>
            <label>
              Supplier
              <select value={supplier} onChange={(e) => setSupplier(e.currentTarget.value)}>
                <option value="">None</option>
                {view.suppliers.map((s) => (
                  <option key={hex(s.id)} value={hex(s.id)}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Lot
              <input value={lot} maxLength={60} onInput={(e) => setLot(e.currentTarget.value)} />
            </label>
            {openOrders.length > 0 && (
              <label class="wide">
                Against purchase order
                <select value={po} onChange={(e) => setPo(e.currentTarget.value)}>
                  <option value="">None</option>
                  {openOrders.map((p) => (
                    <option key={hex(p.id)} value={hex(p.id)}>
                      {p.supplierName}: {p.lines.map((l) => `${l.quantity} ${l.itemName}`).join(", ")}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </>
        )}
        {kind === "waste" && (
          <label class="wide">
            Reason
            <input value={reason} maxLength={140} placeholder="spoiled, dropped, past its date…" onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
        )}
      </div>
      <Problem error={error} />
      <Footer busy={busy} ok={ok} label={kind === "receive" ? "Receive" : kind === "count" ? "Save count" : "Record waste"} onCancel={onCancel} />
    </Dialog>
  );
}

interface Line {
  key: string;
  item: string;
  amount: string;
}

function TransferDialog({ view, onCancel, onDone }: { view: StockView; onCancel: () => void; onDone: (message: string) => void }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [lines, setLines] = useState<Line[]>([{ key: hex(newId()), item: "", amount: "" }]);
  const [error, setError] = useState("");
  const { send, busy } = useChange(setError);
  // Kept with the dialog, like the request id: a retry sends the same transfer.
  const transfer = useRef(newId());
  const parsed = lines.map((l) => {
    const item = view.items.find((i) => hex(i.id) === l.item);
    return { item, milli: item ? parseQuantity(l.amount, item.unit) : null };
  });
  const same = from !== "" && from === to;
  const ok = from !== "" && to !== "" && !same && parsed.every((p) => p.item && p.milli !== null);
  const set = (i: number, patch: Partial<Line>) => setLines(lines.map((l, k) => (k === i ? { ...l, ...patch } : l)));
  const submit = async () => {
    if (!ok) return;
    const id = (h: string) => view.locations.find((l) => hex(l.location) === h)?.location ?? new Uint8Array();
    const reply = await send({
      case: "sendTransfer",
      value: {
        transfer: transfer.current,
        from: id(from),
        to: id(to),
        lines: parsed.flatMap((p) => (p.item && p.milli !== null ? [{ item: p.item.id, quantity: formatQuantity(p.milli, p.item.unit) }] : [])),
      },
    });
    if (!reply) return;
    const name = (h: string) => view.locations.find((l) => hex(l.location) === h)?.name ?? "";
    onDone(`Sent to ${name(to)}: it shows as on the way until ${name(to)} receives it.`);
  };
  return (
    <Dialog label="Transfer stock" class="editor" onCancel={onCancel} onSubmit={() => void submit()}>
      <header>
        <h2>Transfer stock</h2>
        <p class="muted">What leaves one location is on the way until the other receives it.</p>
      </header>
      <div class="form-grid">
        <LocationPicker label="From" view={view} value={from} onChange={setFrom} />
        <LocationPicker label="To" view={view} value={to} onChange={setTo} />
      </div>
      {same && <p class="error">A transfer goes from one location to another.</p>}
      <fieldset>
        <legend>What goes</legend>
        <div class="rows">
          {lines.map((l, i) => {
            const item = parsed[i]?.item;
            const held = levelAt(view, from, l.item);
            return (
              <div class="row transfer-line" key={l.key}>
                <ItemPicker label={`Item ${i + 1}`} items={view.items} value={l.item} onChange={(h) => set(i, { item: h })} />
                <label>
                  Quantity{item ? ` (${unitName[item.unit]})` : ""}
                  <input inputMode="decimal" value={l.amount} placeholder={held && item ? `${formatQuantity(held.milli, item.unit)} there` : ""} onInput={(e) => set(i, { amount: e.currentTarget.value })} />
                </label>
                <button type="button" class="ghost" aria-label={`Remove item ${i + 1}`} disabled={lines.length === 1} onClick={() => setLines(lines.filter((_, k) => k !== i))}>
                  ✕
                </button>
              </div>
            );
          })}
          <button type="button" class="ghost" onClick={() => setLines([...lines, { key: hex(newId()), item: "", amount: "" }])}>
            Add an item
          </button>
        </div>
      </fieldset>
      <Problem error={error} />
      <Footer busy={busy} ok={ok} label="Send" onCancel={onCancel} />
    </Dialog>
  );
}

function ArrivalDialog({
  view,
  transfer,
  onCancel,
  onDone,
}: {
  view: StockView;
  transfer: TransferView;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const [lines, setLines] = useState(() => asSent(transfer, view.items));
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const { send, busy } = useChange(setError);
  // A count may find that something sent never arrived: zero is allowed here.
  const parsed = lines.map((l) => parseCounted(l.text, l.item.unit));
  const ok = parsed.every((m) => m !== null);
  const submit = async () => {
    if (!ok) return;
    const reply = await send({
      case: "receiveTransfer",
      value: {
        transfer: transfer.id,
        lines: lines.map((l, i) => ({ item: l.item.id, quantity: formatQuantity(parsed[i] ?? 0n, l.item.unit) })),
        note: note.trim(),
      },
    });
    if (reply) onDone(`Received at ${transfer.toName} from ${transfer.fromName}.`);
  };
  return (
    <Dialog label="Transfer arrived" class="editor" onCancel={onCancel} onSubmit={() => void submit()}>
      <header>
        <h2>
          From {transfer.fromName} to {transfer.toName}
        </h2>
        <p class="muted">Check what arrived. What is short is lost on the way; more than was sent needs a note.</p>
      </header>
      <div class="rows">
        {lines.map((l, i) => (
          <label key={hex(l.item.id)} class="arrival-line">
            {l.item.name} (sent {transfer.lines[i]?.quantity})
            <input
              inputMode="decimal"
              value={l.text}
              aria-invalid={parsed[i] === null}
              onInput={(e) => setLines(lines.map((x, k) => (k === i ? { ...x, text: e.currentTarget.value } : x)))}
            />
          </label>
        ))}
      </div>
      <label>
        Note
        <input value={note} maxLength={140} placeholder="why more or less arrived" onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <Problem error={error} />
      <Footer busy={busy} ok={ok} label="Receive" onCancel={onCancel} />
    </Dialog>
  );
}
