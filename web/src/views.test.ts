import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Channel, ItemSchema, ModifierGroupSchema, SourceSchema } from "../gen/mpos/v1/events_pb";
import {
  KitchenStatus,
  KitchenTicketSchema,
  LineViewSchema,
  MenuItemViewSchema,
  OrderViewSchema,
  TableViewSchema,
  type MenuItemView,
} from "../gen/mpos/v1/pos_pb";
import { tableToken } from "./app";
import { tableState } from "./floor";
import { addToCart, cartTotal, progress, unitPrice } from "./guest";
import { age, sourceName, ticketLines } from "./kitchen";

const oat = new Uint8Array([9]);
const risotto: MenuItemView = create(MenuItemViewSchema, {
  item: create(ItemSchema, {
    id: new Uint8Array([1]),
    name: "Risotto",
    price: 1650n,
    channelPrices: [{ channel: Channel.TABLE, price: 1700n }],
    available: true,
  }),
  modifierGroups: [
    create(ModifierGroupSchema, { name: "Extras", options: [{ id: oat, name: "Truffle", priceDelta: 300n }] }),
  ],
});

describe("the guest's cart", () => {
  it("prices at the table's price with the chosen options, and adds up like choices", () => {
    expect(unitPrice(risotto, { modifiers: [oat], note: "" })).toBe(2000n);
    let cart = addToCart([], risotto, { modifiers: [], note: "" });
    cart = addToCart(cart, risotto, { modifiers: [], note: "" });
    cart = addToCart(cart, risotto, { modifiers: [oat], note: "" });
    cart = addToCart(cart, risotto, { modifiers: [], note: "no cheese" });
    expect(cart.map((l) => l.quantity)).toEqual([2, 1, 1]);
    expect(cartTotal(cart)).toBe(1700n * 2n + 2000n + 1700n);
  });

  it("tells the guest where their order is", () => {
    const order = (kitchen: KitchenStatus) => create(OrderViewSchema, { status: 1, kitchen });
    expect(progress(order(KitchenStatus.PREPARING)).label).toMatch(/preparing/);
    expect(progress(order(KitchenStatus.READY)).tone).toBe("ok");
    expect(progress(create(OrderViewSchema, { status: 3 })).tone).toBe("bad");
  });
});

describe("the kitchen display", () => {
  it("shows ages as a kitchen clock", () => {
    expect(age(0)).toBe("0:00");
    expect(age(61_500)).toBe("1:01");
    expect(age(3_726_000)).toBe("1:02:06");
    expect(age(-5_000)).toBe("0:00");
  });

  it("names where a ticket came from", () => {
    expect(sourceName(create(SourceSchema, { kind: { case: "selfOrder", value: {} } }), Channel.TABLE)).toBe(
      "Self-order",
    );
    expect(sourceName(create(SourceSchema, { kind: { case: "aggregator", value: "grabfood" } }), Channel.DELIVERY)).toBe(
      "grabfood",
    );
    expect(sourceName(undefined, Channel.COUNTER)).toBe("Counter");
  });
});

describe("the floor and the links", () => {
  it("marks a table free, seated or ready", () => {
    const table = { name: "T1", active: true, seats: 2 };
    expect(tableState(create(TableViewSchema, { table }))).toBe("free");
    const seated = create(TableViewSchema, { table, orders: [{ kitchen: KitchenStatus.PREPARING }] });
    expect(tableState(seated)).toBe("seated");
    const ready = create(TableViewSchema, { table, orders: [{ kitchen: KitchenStatus.READY }] });
    expect(tableState(ready)).toBe("ready");
    expect(tableState(create(TableViewSchema, { table: { ...table, active: false } }))).toBe("out");
  });

  it("reads a table's token from its link, and nothing else", () => {
    expect(tableToken("/t/0123456789abcdef01234567")).toBe("0123456789abcdef01234567");
    expect(tableToken("/t/short")).toBeNull();
    expect(tableToken("/t/../etc/passwd")).toBeNull();
    expect(tableToken("/kitchen")).toBeNull();
  });
});

describe("courses on the kitchen display", () => {
  const line = (id: number, course: number) =>
    create(LineViewSchema, { id: new Uint8Array([id]), course, sent: true });

  it("lists one course plainly, without headings", () => {
    const t = create(KitchenTicketSchema, { lines: [line(1, 1), line(2, 1)] });
    expect(ticketLines(t).map((x) => [x.head, x.held])).toEqual([
      [undefined, false],
      [undefined, false],
    ]);
  });

  it("heads each course in course order, holding later ones until fired", () => {
    const t = create(KitchenTicketSchema, { lines: [line(1, 3), line(2, 1), line(3, 2), line(4, 2)] });
    const held = ticketLines(t);
    expect(held.map((x) => x.line.id[0])).toEqual([2, 3, 4, 1]);
    expect(held.map((x) => x.head?.state)).toEqual(["cooking", "held", undefined, "held"]);
    expect(held.map((x) => x.held)).toEqual([false, true, true, true]);
    t.firedCourses = [2];
    expect(ticketLines(t).map((x) => x.head?.state)).toEqual(["cooking", "fired", undefined, "held"]);
  });
});
