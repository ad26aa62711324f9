// Stock quantities as the node keeps them: exact thousandths of a base unit (g, ml or a
// piece), shown and typed in the item's own unit. Like money, never a float.

import { StockUnit, type StockItem } from "../gen/mpos/v1/events_pb";
import type { StockLevel, StockLineView, StockView, TransferView } from "../gen/mpos/v1/pos_pb";
import { hex, sameId } from "./ids";

export const unitName: Record<StockUnit, string> = {
  [StockUnit.UNSPECIFIED]: "",
  [StockUnit.GRAM]: "g",
  [StockUnit.KILOGRAM]: "kg",
  [StockUnit.MILLILITRE]: "ml",
  [StockUnit.LITRE]: "l",
  [StockUnit.EACH]: "each",
};

/** Thousandths of the base unit in one `unit` (a kilogram is 1,000,000 milligrams). */
function scale(unit: StockUnit): bigint {
  return unit === StockUnit.KILOGRAM || unit === StockUnit.LITRE ? 1_000_000n : 1_000n;
}

/** `milli` in `unit`, the way the node writes it: "12.5 kg", "-3 each", "0.112 kg". */
export function formatQuantity(milli: bigint, unit: StockUnit): string {
  const s = scale(unit);
  const negative = milli < 0n;
  const abs = negative ? -milli : milli;
  const places = s.toString().length - 1;
  const fraction = (abs % s).toString().padStart(places, "0").replace(/0+$/, "");
  const whole = (abs / s).toString();
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""} ${unitName[unit]}`;
}

/**
 * A positive amount typed in `unit` ("2", "0.25", "1,5") as thousandths of the base
 * unit; null when it is not one (letters, zero, finer than the unit can hold).
 */
export function parseQuantity(text: string, unit: StockUnit): bigint | null {
  const m = /^\s*(\d{1,9})?(?:[.,](\d*))?\s*$/.exec(text);
  if (!m || (m[1] === undefined && !m[2])) return null;
  const places = scale(unit).toString().length - 1;
  const fraction = (m[2] ?? "").replace(/0+$/, "");
  if (fraction.length > places) return null;
  const milli = BigInt(m[1] ?? "0") * scale(unit) + BigInt(fraction.padEnd(places, "0") || "0");
  return milli > 0n ? milli : null;
}

/**
 * An amount typed in `unit` that may be none at all: what a count found, or what
 * arrived of a transfer. Null when it is not an amount of the unit.
 */
export function parseCounted(text: string, unit: StockUnit): bigint | null {
  return /^\s*(0+([.,]0*)?|0*[.,]0+)\s*$/.test(text) ? 0n : parseQuantity(text, unit);
}

/** A location as the grid's column. */
export interface Place {
  id: Uint8Array;
  name: string;
}

/** One stock item across the locations shown: a cell per location (none: nothing held). */
export interface Row {
  item: StockItem;
  cells: (StockLevel | undefined)[];
  /** Across the locations shown. */
  total: bigint;
  value: bigint;
  low: boolean;
}

/**
 * The levels as a grid: the trading locations (or the one chosen) across, every active
 * item that any of them holds or keeps a par level of down, by name. Levels point at
 * their location and item by place in the view's lists, so this is one pass over them.
 */
export function stockGrid(view: StockView, only?: Uint8Array): { locations: Place[]; rows: Row[] } {
  const shown = view.locations
    .map((l, place) => ({ l, place }))
    .filter(({ l }) => (only ? sameId(l.location, only) : l.active));
  const column = new Map(shown.map(({ place }, c) => [place, c]));
  const byItem = new Map<number, (StockLevel | undefined)[]>();
  for (const level of view.levels) {
    const c = column.get(level.location);
    if (c === undefined) continue;
    let cells = byItem.get(level.item);
    if (!cells) {
      cells = new Array<StockLevel | undefined>(shown.length).fill(undefined);
      byItem.set(level.item, cells);
    }
    cells[c] = level;
  }
  const rows: Row[] = [];
  for (const [place, cells] of byItem) {
    const item = view.items[place];
    if (!item?.active) continue;
    rows.push({
      item,
      cells,
      total: cells.reduce((sum, c) => sum + (c?.milli ?? 0n), 0n),
      value: cells.reduce((sum, c) => sum + (c?.value ?? 0n), 0n),
      low: cells.some((c) => c?.low),
    });
  }
  rows.sort((a, b) => a.item.name.localeCompare(b.item.name));
  return { locations: shown.map(({ l }) => ({ id: l.location, name: l.name })), rows };
}

/** The level of `item` at `location`, if the view has one. */
export function levelAt(view: StockView, location: Uint8Array | string, item: Uint8Array | string): StockLevel | undefined {
  const same = (a: Uint8Array, b: Uint8Array | string) => (typeof b === "string" ? hex(a) === b : sameId(a, b));
  const place = view.locations.findIndex((l) => same(l.location, location));
  const at = view.items.findIndex((i) => same(i.id, item));
  return view.levels.find((l) => l.location === place && l.item === at);
}

/** A transfer's lines as the arrival form starts them: everything as it was sent. */
export function asSent(t: TransferView, items: StockItem[]): { item: StockItem; text: string }[] {
  return t.lines.flatMap((line) => {
    const item = items.find((i) => sameId(i.id, line.item));
    if (!item) return [];
    // "4 kg" → "4": the form's field is already in the item's unit.
    return [{ item, text: line.quantity.replace(/\s+\S+$/, "") }];
  });
}

/** Stock lines as a register says them ("1.5 kg Flour, 2 each Lemons"); none: "nothing". */
export function stockLines(of: StockLineView[]): string {
  return of.length === 0 ? "nothing" : of.map((l) => `${l.quantity} ${l.itemName}`).join(", ");
}
