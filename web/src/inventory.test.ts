import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { StockItemSchema, StockUnit } from "../gen/mpos/v1/events_pb";
import { LocationStockSchema, StockLevelSchema, StockLineViewSchema, StockViewSchema, TransferViewSchema } from "../gen/mpos/v1/pos_pb";
import { asSent, formatQuantity, levelAt, parseCounted, parseQuantity, stockGrid, stockLines } from "./inventory";

describe("quantities", () => {
  it("are written in the item's unit without trailing zeros, like the node writes them", () => {
    expect(formatQuantity(12_500_000n, StockUnit.KILOGRAM)).toBe("12.5 kg");
    expect(formatQuantity(112_000n, StockUnit.KILOGRAM)).toBe("0.112 kg");
    expect(formatQuantity(-3_000n, StockUnit.EACH)).toBe("-3 each");
    expect(formatQuantity(28_500n, StockUnit.EACH)).toBe("28.5 each");
    expect(formatQuantity(250_000n, StockUnit.GRAM)).toBe("250 g");
    expect(formatQuantity(0n, StockUnit.LITRE)).toBe("0 l");
  });

  it("are read exactly, and anything that is not a positive amount of the unit is refused", () => {
    expect(parseQuantity("2", StockUnit.KILOGRAM)).toBe(2_000_000n);
    expect(parseQuantity("0.25", StockUnit.KILOGRAM)).toBe(250_000n);
    expect(parseQuantity("1,5", StockUnit.LITRE)).toBe(1_500_000n);
    expect(parseQuantity(".5", StockUnit.EACH)).toBe(500n);
    expect(parseQuantity("0.001", StockUnit.GRAM)).toBe(1n);
    expect(parseQuantity("0.0001", StockUnit.GRAM)).toBeNull();
    expect(parseQuantity("1.0000001", StockUnit.KILOGRAM)).toBeNull();
    expect(parseQuantity("0", StockUnit.EACH)).toBeNull();
    expect(parseQuantity("-2", StockUnit.EACH)).toBeNull();
    expect(parseQuantity("2 kg", StockUnit.KILOGRAM)).toBeNull();
    expect(parseQuantity("", StockUnit.KILOGRAM)).toBeNull();
    expect(parseQuantity(".", StockUnit.KILOGRAM)).toBeNull();
  });
});

const bistro = new Uint8Array([1]);
const harbour = new Uint8Array([2]);
const closed = new Uint8Array([3]);
const beans = new Uint8Array([10]);
const eggs = new Uint8Array([11]);
const old = new Uint8Array([12]);
const unused = new Uint8Array([13]);
// Levels point at locations and items by place in the view's lists below.
const places: Uint8Array[] = [bistro, harbour, closed];
const stocked: Uint8Array[] = [eggs, beans, old, unused];
const level = (location: Uint8Array, item: Uint8Array, milli: bigint, value: bigint, low = false) =>
  create(StockLevelSchema, { location: places.indexOf(location), item: stocked.indexOf(item), milli, value, low });
const view = create(StockViewSchema, {
  currency: "EUR",
  locations: [
    create(LocationStockSchema, { location: bistro, name: "Bistro", active: true }),
    create(LocationStockSchema, { location: harbour, name: "Harbour", active: true }),
    create(LocationStockSchema, { location: closed, name: "Old site", active: false }),
  ],
  items: [
    create(StockItemSchema, { id: eggs, name: "Eggs", unit: StockUnit.EACH, active: true }),
    create(StockItemSchema, { id: beans, name: "Coffee beans", unit: StockUnit.KILOGRAM, active: true }),
    create(StockItemSchema, { id: old, name: "Archived", unit: StockUnit.EACH, active: false }),
    create(StockItemSchema, { id: unused, name: "Never bought", unit: StockUnit.EACH, active: true }),
  ],
  levels: [
    level(bistro, beans, 1_112_000n, 2673n, true),
    level(harbour, beans, 4_000_000n, 9600n),
    level(harbour, eggs, 90_000n, 2700n),
    level(closed, eggs, 5_000n, 150n),
    level(bistro, old, 1_000n, 10n),
  ],
});

it("a count or an arrival may be none at all, and is otherwise read like any quantity", () => {
  for (const none of ["0", "0.0", "00", ",0", "0,"]) expect(parseCounted(none, StockUnit.EACH)).toBe(0n);
  expect(parseCounted("2.5", StockUnit.KILOGRAM)).toBe(2_500_000n);
  for (const bad of ["", " ", ".", "-1", "0 kg", "0.0001"]) expect(parseCounted(bad, StockUnit.GRAM)).toBeNull();
});

describe("the stock grid", () => {
  it("has a column per trading location and a row per active item held anywhere, by name", () => {
    const grid = stockGrid(view);
    expect(grid.locations.map((l) => l.name)).toEqual(["Bistro", "Harbour"]);
    expect(grid.rows.map((r) => r.item.name)).toEqual(["Coffee beans", "Eggs"]);
    const [coffee, egg] = grid.rows;
    expect(coffee?.cells.map((c) => c?.milli)).toEqual([1_112_000n, 4_000_000n]);
    expect(coffee?.total).toBe(5_112_000n);
    expect(coffee?.value).toBe(12_273n);
    expect(coffee?.low).toBe(true);
    // Nothing at the bistro; the closed site's eggs are not in an all-locations total.
    expect(egg?.cells[0]).toBeUndefined();
    expect(egg?.total).toBe(90_000n);
    expect(egg?.low).toBe(false);
  });

  it("shows one location, even a closed one, when it is chosen", () => {
    const grid = stockGrid(view, closed);
    expect(grid.locations.map((l) => l.name)).toEqual(["Old site"]);
    expect(grid.rows.map((r) => [r.item.name, r.total])).toEqual([["Eggs", 5_000n]]);
  });

  it("finds one level by its location and item, as bytes or hex", () => {
    expect(levelAt(view, harbour, beans)?.milli).toBe(4_000_000n);
    expect(levelAt(view, "02", "0b")?.value).toBe(2700n);
    expect(levelAt(view, bistro, eggs)).toBeUndefined();
    expect(levelAt(view, new Uint8Array([9]), eggs)).toBeUndefined();
  });
});

it("an arrival starts as the transfer was sent, in each item's unit", () => {
  const t = create(TransferViewSchema, {
    lines: [
      { item: beans, quantity: "4 kg" },
      { item: eggs, quantity: "30 each" },
    ],
  });
  expect(asSent(t, view.items).map((l) => [l.item.name, l.text])).toEqual([
    ["Coffee beans", "4"],
    ["Eggs", "30"],
  ]);
});

describe("a disputed transfer's lines", () => {
  it("read as the register says them, and an arrival of nothing says so", () => {
    const line = (quantity: string, itemName: string) => create(StockLineViewSchema, { quantity, itemName });
    expect(stockLines([line("1.5 kg", "Flour"), line("2 each", "Lemons")])).toBe("1.5 kg Flour, 2 each Lemons");
    expect(stockLines([])).toBe("nothing");
  });
});
