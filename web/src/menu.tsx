// The back office's menu editor: items (prices per channel, tax, variants, modifier
// groups, 86), modifier groups, tax categories and categories. Each save puts the whole
// entry, as the node's ChangeMenu asks; ids are chosen here, so a retried save is harmless.

import { useEffect, useState } from "preact/hooks";
import { Channel, type Category, type Item, type ModifierGroup, type TaxCategory } from "../gen/mpos/v1/events_pb";
import type { MenuItemView, MenuView } from "../gen/mpos/v1/pos_pb";
import { explain, pos } from "./api";
import { Editor } from "./dialog";
import { hex, newId, sameId } from "./ids";
import { decimal, parseMoney } from "./money";
import { parsePercent, percentText } from "./percent";
import type { OfficeProps } from "./office";

type Tab = "items" | "modifiers" | "taxes";
type Change = Parameters<typeof pos.changeMenu>[0]["change"];

const CHANNELS: { channel: Channel; label: string }[] = [
  { channel: Channel.TABLE, label: "At a table" },
  { channel: Channel.ONLINE, label: "Online" },
  { channel: Channel.DELIVERY, label: "Delivery" },
];

/** An amount that may be negative ("-0.50" off for a small size); null if not one. */
export function parseSigned(text: string, currency: string): bigint | null {
  const t = text.trim();
  const negative = t.startsWith("-") || t.startsWith("−");
  const m = parseMoney(negative ? t.slice(1) : t, currency);
  return m === null ? null : negative ? -m : m;
}

/** Tax rates typed as percentages ("7" or "5, 2.5") in parts per million; null if one is not. */
export function parseRates(text: string): number[] | null {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const out: number[] = [];
  for (const p of parts) {
    const ppm = parsePercent(p);
    if (ppm === null) return null;
    out.push(ppm);
  }
  return out;
}

function save(change: Change) {
  return pos.changeMenu({ requestId: newId(), change });
}

export function MenuEditor({ session, money, fail }: OfficeProps) {
  const [menu, setMenu] = useState<MenuView | null>(null);
  const [tab, setTab] = useState<Tab>("items");
  const [category, setCategory] = useState<Category | null>(null);
  const [items, setItems] = useState<MenuItemView[]>([]);
  const [editing, setEditing] = useState<Item | "new" | null>(null);
  const [group, setGroup] = useState<ModifierGroup | "new" | null>(null);
  const [tax, setTax] = useState<TaxCategory | "new" | null>(null);
  const [cat, setCat] = useState<Category | "new" | null>(null);

  const loadMenu = () =>
    pos
      .getMenu({})
      .then((m) => {
        setMenu(m);
        setCategory((c) => (c && m.categories.find((x) => sameId(x.id, c.id))) || m.categories[0] || null);
      })
      .catch(fail);
  const loadItems = () => {
    if (!category) return;
    pos
      .listItems({ category: category.id, limit: 200 })
      .then((r) => setItems(r.items))
      .catch(fail);
  };
  useEffect(() => {
    void loadMenu();
  }, []);
  useEffect(loadItems, [category]);

  const setAvailable = (item: Item, available: boolean) =>
    save({ case: "availability", value: { item: item.id, available } })
      .then(loadItems)
      .catch(fail);

  if (!menu) return <p class="muted">Loading the menu…</p>;
  const taxName = (id: Uint8Array) => menu.taxCategories.find((t) => sameId(t.id, id))?.name ?? "—";
  const stations = stationsOf(menu.categories);
  return (
    <section class="office-section" aria-label="Menu">
      <header class="section-head">
        <h1>Menu</h1>
        <div class="segmented three" role="tablist" aria-label="Menu part">
          {(
            [
              ["items", "Items"],
              ["modifiers", "Modifiers"],
              ["taxes", "Categories & taxes"],
            ] as const
          ).map(([id, label]) => (
            <button key={id} role="tab" aria-selected={tab === id} class={tab === id ? "on" : ""} onClick={() => setTab(id)}>
              {label}
            </button>
          ))}
        </div>
      </header>

      {tab === "items" && (
        <>
          <div class="chips">
            {menu.categories.map((c) => (
              <button key={hex(c.id)} class={category && sameId(category.id, c.id) ? "tab on" : "tab"} onClick={() => setCategory(c)}>
                {c.name}
              </button>
            ))}
            <button class="primary" onClick={() => setEditing("new")}>
              New item
            </button>
          </div>
          <table class="report-table menu-items">
            <thead>
              <tr>
                <th>Item</th>
                <th>Price</th>
                <th>Tax</th>
                <th>Options</th>
                <th>Available</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((v) => {
                const item = v.item;
                if (!item) return null;
                return (
                  <tr key={hex(item.id)} data-testid={`menu-${item.name}`} class={item.available ? "" : "inactive"}>
                    <td>
                      <strong>{item.name}</strong>
                      {item.sku && <small class="muted"> · {item.sku}</small>}
                      {item.description && <div class="muted small">{item.description}</div>}
                    </td>
                    <td>{money(item.price)}</td>
                    <td>{taxName(item.taxCategory)}</td>
                    <td class="muted">
                      {[
                        item.variants.length > 0 ? `${item.variants.length} sizes` : "",
                        ...v.modifierGroups.map((g) => g.name),
                      ]
                        .filter(Boolean)
                        .join(", ") || "—"}
                    </td>
                    <td>
                      <label class="switch">
                        <input
                          type="checkbox"
                          checked={item.available}
                          aria-label={`${item.name} available`}
                          onChange={(e) => void setAvailable(item, e.currentTarget.checked)}
                        />
                        <span>{item.available ? "On sale" : "86'd"}</span>
                      </label>
                    </td>
                    <td class="row-actions">
                      <button class="ghost" onClick={() => setEditing(item)}>
                        Edit
                      </button>
                    </td>
                  </tr>
                );
              })}
              {items.length === 0 && (
                <tr>
                  <td colSpan={6} class="muted">
                    No items in this category yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}

      {tab === "modifiers" && (
        <>
          <div class="chips">
            <button class="primary" onClick={() => setGroup("new")}>
              New modifier group
            </button>
          </div>
          <div class="card-grid">
            {menu.modifierGroups.map((g) => (
              <article class="card entry" key={hex(g.id)}>
                <header>
                  <strong>{g.name}</strong>
                  <small class="muted">{choiceRule(g)}</small>
                </header>
                <ul>
                  {g.options.map((o) => (
                    <li key={hex(o.id)}>
                      {o.name}
                      {o.priceDelta !== 0n && <span class="muted"> {o.priceDelta > 0n ? "+" : ""}{money(o.priceDelta)}</span>}
                    </li>
                  ))}
                </ul>
                <button class="ghost" onClick={() => setGroup(g)}>
                  Edit
                </button>
              </article>
            ))}
          </div>
        </>
      )}

      {tab === "taxes" && (
        <div class="two-columns">
          <div>
            <div class="chips">
              <h2>Categories</h2>
              <button class="primary" onClick={() => setCat("new")}>
                New category
              </button>
            </div>
            <ul class="entry-list">
              {menu.categories.map((c) => (
                <li key={hex(c.id)}>
                  <span>
                    <strong>{c.name}</strong>
                    <small class="muted"> · {c.station.length ? stationLabel(stations, c.station) : "not made in a kitchen"}</small>
                  </span>
                  <button class="ghost" onClick={() => setCat(c)}>
                    Edit
                  </button>
                </li>
              ))}
            </ul>
          </div>
          <div>
            <div class="chips">
              <h2>Tax categories</h2>
              <button class="primary" onClick={() => setTax("new")}>
                New tax category
              </button>
            </div>
            <ul class="entry-list">
              {menu.taxCategories.map((t) => (
                <li key={hex(t.id)}>
                  <span>
                    <strong>{t.name}</strong>
                    <small class="muted"> · {t.ratesPpm.map((r) => `${percentText(r)}%`).join(" + ") || "no tax"}</small>
                  </span>
                  <button class="ghost" onClick={() => setTax(t)}>
                    Edit
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </div>
      )}

      {editing && (
        <ItemDialog
          item={editing === "new" ? null : editing}
          menu={menu}
          category={category}
          defaultTax={items[0]?.item?.taxCategory}
          currency={session.currency}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            loadItems();
          }}
        />
      )}
      {group && (
        <GroupDialog
          group={group === "new" ? null : group}
          currency={session.currency}
          onCancel={() => setGroup(null)}
          onSaved={() => {
            setGroup(null);
            void loadMenu();
            loadItems();
          }}
        />
      )}
      {tax && (
        <TaxDialog
          tax={tax === "new" ? null : tax}
          onCancel={() => setTax(null)}
          onSaved={() => {
            setTax(null);
            void loadMenu();
          }}
        />
      )}
      {cat && (
        <CategoryDialog
          category={cat === "new" ? null : cat}
          stations={stations}
          onCancel={() => setCat(null)}
          onSaved={() => {
            setCat(null);
            void loadMenu();
          }}
        />
      )}
    </section>
  );
}

function choiceRule(g: ModifierGroup): string {
  if (g.min === 0) return g.max === 0 ? "optional" : `optional, up to ${g.max}`;
  if (g.min === g.max) return `choose ${g.min}`;
  return g.max === 0 ? `at least ${g.min}` : `${g.min} to ${g.max}`;
}

/** The kitchen stations in use (stations have ids only), each with its categories. */
function stationsOf(categories: Category[]): { id: Uint8Array; categories: string[] }[] {
  const out: { id: Uint8Array; categories: string[] }[] = [];
  for (const c of categories) {
    if (c.station.length === 0) continue;
    const s = out.find((x) => sameId(x.id, c.station));
    if (s) s.categories.push(c.name);
    else out.push({ id: c.station, categories: [c.name] });
  }
  return out;
}

function stationLabel(stations: { id: Uint8Array; categories: string[] }[], id: Uint8Array): string {
  const i = stations.findIndex((s) => sameId(s.id, id));
  return i < 0 ? "a new kitchen station" : `station ${i + 1} (with ${stations[i]?.categories.join(", ")})`;
}

/** Runs a save, keeping the dialog open with the node's refusal if there is one. */
function useSave(onSaved: () => void) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const run = async (change: Change) => {
    setBusy(true);
    setError("");
    try {
      await save(change);
      onSaved();
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

interface Row {
  id: Uint8Array;
  name: string;
  delta: string;
}

/** Name-and-price rows (sizes, options) with add and remove. */
function Rows({ rows, onChange, what }: { rows: Row[]; onChange: (r: Row[]) => void; what: string }) {
  const set = (i: number, patch: Partial<Row>) => onChange(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  return (
    <div class="rows">
      {rows.map((r, i) => (
        <div class="row" key={hex(r.id)}>
          <input aria-label={`${what} ${i + 1} name`} placeholder="Name" value={r.name} onInput={(e) => set(i, { name: e.currentTarget.value })} />
          <input aria-label={`${what} ${i + 1} price change`} inputMode="decimal" placeholder="+0.00" value={r.delta} onInput={(e) => set(i, { delta: e.currentTarget.value })} />
          <button type="button" class="ghost" aria-label={`Remove ${what} ${i + 1}`} onClick={() => onChange(rows.filter((_, k) => k !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" class="ghost" onClick={() => onChange([...rows, { id: newId(), name: "", delta: "" }])}>
        Add {what}
      </button>
    </div>
  );
}

function rowsValid(rows: Row[], currency: string): boolean {
  return rows.every((r) => r.name.trim() !== "" && (r.delta.trim() === "" || parseSigned(r.delta, currency) !== null));
}

function fromRows(rows: Row[], currency: string) {
  return rows.map((r) => ({ id: r.id, name: r.name.trim(), priceDelta: r.delta.trim() === "" ? 0n : (parseSigned(r.delta, currency) ?? 0n) }));
}

function ItemDialog({
  item,
  menu,
  category,
  defaultTax,
  currency,
  onSaved,
  onCancel,
}: {
  item: Item | null;
  menu: MenuView;
  category: Category | null;
  /** The tax a new item starts with: that of its category's other items. */
  defaultTax?: Uint8Array;
  currency: string;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const [id] = useState(item?.id ?? newId());
  const [name, setName] = useState(item?.name ?? "");
  const [description, setDescription] = useState(item?.description ?? "");
  const [categoryId, setCategoryId] = useState(hex(item?.category ?? category?.id ?? menu.categories[0]?.id ?? new Uint8Array()));
  const [taxId, setTaxId] = useState(hex(item?.taxCategory ?? defaultTax ?? menu.taxCategories[0]?.id ?? new Uint8Array()));
  const [price, setPrice] = useState(item ? decimal(item.price, currency) : "");
  const [channelPrices, setChannelPrices] = useState<Record<number, string>>(
    Object.fromEntries((item?.channelPrices ?? []).map((p) => [p.channel, decimal(p.price, currency)])),
  );
  const [sku, setSku] = useState(item?.sku ?? "");
  const [barcode, setBarcode] = useState(item?.barcode ?? "");
  const [variants, setVariants] = useState<Row[]>(
    (item?.variants ?? []).map((v) => ({ id: v.id, name: v.name, delta: v.priceDelta === 0n ? "" : decimal(v.priceDelta, currency) })),
  );
  const [groups, setGroups] = useState<string[]>((item?.modifierGroups ?? []).map(hex));
  const [available, setAvailable] = useState(item?.available ?? true);
  const { error, busy, run } = useSave(onSaved);

  const base = parseMoney(price, currency);
  const channels = CHANNELS.map((c) => {
    const text = channelPrices[c.channel]?.trim() ?? "";
    return { ...c, text, price: text === "" ? null : parseMoney(text, currency) };
  });
  const ok =
    name.trim() !== "" &&
    base !== null &&
    channels.every((c) => c.text === "" || c.price !== null) &&
    rowsValid(variants, currency) &&
    categoryId !== "" &&
    taxId !== "";
  const find = <T extends { id: Uint8Array }>(list: T[], h: string) => list.find((x) => hex(x.id) === h)?.id ?? new Uint8Array();
  return (
    <Editor
      label={item ? `Edit ${item.name}` : "New item"}
      error={error}
      busy={busy}
      ok={ok}
      onCancel={onCancel}
      onSave={() =>
        void run({
          case: "item",
          value: {
            id,
            name: name.trim(),
            description: description.trim(),
            category: find(menu.categories, categoryId),
            sku: sku.trim() || undefined,
            barcode: barcode.trim() || undefined,
            price: base ?? 0n,
            channelPrices: channels.filter((c) => c.price !== null).map((c) => ({ channel: c.channel, price: c.price ?? 0n })),
            taxCategory: find(menu.taxCategories, taxId),
            variants: fromRows(variants, currency),
            modifierGroups: menu.modifierGroups.filter((g) => groups.includes(hex(g.id))).map((g) => g.id),
            available,
          },
        })
      }
    >
      <div class="form-grid">
        <label class="wide">
          Name
          <input value={name} maxLength={80} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="wide">
          Description
          <input value={description} maxLength={240} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Category
          <select value={categoryId} onChange={(e) => setCategoryId(e.currentTarget.value)}>
            {menu.categories.map((c) => (
              <option key={hex(c.id)} value={hex(c.id)}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tax
          <select value={taxId} onChange={(e) => setTaxId(e.currentTarget.value)}>
            {menu.taxCategories.map((t) => (
              <option key={hex(t.id)} value={hex(t.id)}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Price ({currency})
          <input inputMode="decimal" value={price} onInput={(e) => setPrice(e.currentTarget.value)} />
        </label>
        {channels.map((c) => (
          <label key={c.channel}>
            {c.label}
            <input
              inputMode="decimal"
              placeholder="same"
              value={c.text}
              onInput={(e) => setChannelPrices({ ...channelPrices, [c.channel]: e.currentTarget.value })}
            />
          </label>
        ))}
        <label>
          SKU
          <input value={sku} maxLength={40} onInput={(e) => setSku(e.currentTarget.value)} />
        </label>
        <label>
          Barcode
          <input value={barcode} maxLength={40} onInput={(e) => setBarcode(e.currentTarget.value)} />
        </label>
      </div>
      <fieldset>
        <legend>Sizes (choose one; leave empty for none)</legend>
        <Rows rows={variants} onChange={setVariants} what="size" />
      </fieldset>
      {menu.modifierGroups.length > 0 && (
        <fieldset>
          <legend>Modifier groups</legend>
          <div class="options">
            {menu.modifierGroups.map((g) => {
              const on = groups.includes(hex(g.id));
              return (
                <button
                  type="button"
                  key={hex(g.id)}
                  class={on ? "option on" : "option"}
                  aria-pressed={on}
                  onClick={() => setGroups(on ? groups.filter((x) => x !== hex(g.id)) : [...groups, hex(g.id)])}
                >
                  {g.name}
                  <small>{choiceRule(g)}</small>
                </button>
              );
            })}
          </div>
        </fieldset>
      )}
      <label class="switch">
        <input type="checkbox" checked={available} onChange={(e) => setAvailable(e.currentTarget.checked)} />
        <span>On sale (untick to 86 it)</span>
      </label>
    </Editor>
  );
}

function GroupDialog({
  group,
  currency,
  onSaved,
  onCancel,
}: {
  group: ModifierGroup | null;
  currency: string;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const [id] = useState(group?.id ?? newId());
  const [name, setName] = useState(group?.name ?? "");
  const [min, setMin] = useState(String(group?.min ?? 0));
  const [max, setMax] = useState(String(group?.max ?? 1));
  const [options, setOptions] = useState<Row[]>(
    (group?.options ?? []).map((o) => ({ id: o.id, name: o.name, delta: o.priceDelta === 0n ? "" : decimal(o.priceDelta, currency) })),
  );
  const { error, busy, run } = useSave(onSaved);
  const lo = /^\d{1,2}$/.test(min) ? Number(min) : null;
  const hi = /^\d{1,2}$/.test(max) ? Number(max) : null;
  const ok = name.trim() !== "" && lo !== null && hi !== null && options.length > 0 && rowsValid(options, currency);
  return (
    <Editor
      label={group ? `Edit ${group.name}` : "New modifier group"}
      error={error}
      busy={busy}
      ok={ok}
      onCancel={onCancel}
      onSave={() =>
        void run({
          case: "modifierGroup",
          value: { id, name: name.trim(), min: lo ?? 0, max: hi ?? 0, options: fromRows(options, currency) },
        })
      }
    >
      <div class="form-grid">
        <label class="wide">
          Name
          <input value={name} maxLength={60} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          At least
          <input inputMode="numeric" value={min} onInput={(e) => setMin(e.currentTarget.value)} />
        </label>
        <label>
          At most (0: no limit)
          <input inputMode="numeric" value={max} onInput={(e) => setMax(e.currentTarget.value)} />
        </label>
      </div>
      <fieldset>
        <legend>Options</legend>
        <Rows rows={options} onChange={setOptions} what="option" />
      </fieldset>
    </Editor>
  );
}

function TaxDialog({ tax, onSaved, onCancel }: { tax: TaxCategory | null; onSaved: () => void; onCancel: () => void }) {
  const [id] = useState(tax?.id ?? newId());
  const [name, setName] = useState(tax?.name ?? "");
  const [rates, setRates] = useState((tax?.ratesPpm ?? []).map(percentText).join(", "));
  const { error, busy, run } = useSave(onSaved);
  const parsed = parseRates(rates);
  return (
    <Editor
      label={tax ? `Edit ${tax.name}` : "New tax category"}
      error={error}
      busy={busy}
      ok={name.trim() !== "" && parsed !== null}
      onCancel={onCancel}
      onSave={() => void run({ case: "taxCategory", value: { id, name: name.trim(), ratesPpm: parsed ?? [] } })}
    >
      <label>
        Name
        <input value={name} maxLength={60} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Rates in percent, comma separated (empty: no tax)
        <input value={rates} placeholder="7, 2.5" onInput={(e) => setRates(e.currentTarget.value)} />
      </label>
    </Editor>
  );
}

function CategoryDialog({
  category,
  stations,
  onSaved,
  onCancel,
}: {
  category: Category | null;
  stations: { id: Uint8Array; categories: string[] }[];
  onSaved: () => void;
  onCancel: () => void;
}) {
  const [id] = useState(category?.id ?? newId());
  const [name, setName] = useState(category?.name ?? "");
  const [fresh] = useState(() => newId());
  const [station, setStation] = useState(category?.station.length ? hex(category.station) : "");
  const { error, busy, run } = useSave(onSaved);
  const choices = [...stations.map((s, i) => ({ id: hex(s.id), label: `Station ${i + 1} (${s.categories.join(", ")})` }))];
  if (!choices.some((c) => c.id === station) && station !== "") choices.push({ id: station, label: "Its own station" });
  const stationId = station === "new" ? fresh : station === "" ? new Uint8Array() : (stations.find((s) => hex(s.id) === station)?.id ?? category?.station ?? new Uint8Array());
  return (
    <Editor
      label={category ? `Edit ${category.name}` : "New category"}
      error={error}
      busy={busy}
      ok={name.trim() !== ""}
      onCancel={onCancel}
      onSave={() => void run({ case: "category", value: { id, name: name.trim(), station: stationId } })}
    >
      <label>
        Name
        <input value={name} maxLength={60} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Kitchen station
        <select value={station} onChange={(e) => setStation(e.currentTarget.value)}>
          <option value="">Not made in a kitchen</option>
          {choices.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
          <option value="new">A new station</option>
        </select>
      </label>
    </Editor>
  );
}
