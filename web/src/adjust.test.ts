import { describe, expect, it } from "vitest";
import { discountOff, percentPpm } from "./adjust";
import { share } from "./charts";
import { parseRates, parseSigned } from "./menu";

describe("discounts typed at the register", () => {
  it("reads percentages in parts per million, up to 100%", () => {
    expect(percentPpm("10")).toBe(100_000);
    expect(percentPpm("12.5")).toBe(125_000);
    expect(percentPpm("12,25")).toBe(122_500);
    expect(percentPpm("100")).toBe(1_000_000);
    expect(percentPpm("100.01")).toBeNull();
    expect(percentPpm("0")).toBeNull();
    expect(percentPpm("-5")).toBeNull();
    expect(percentPpm("ten")).toBeNull();
  });

  it("previews what comes off, never more than the base", () => {
    expect(discountOff({ case: "percentPpm", value: 100_000 }, 1650n)).toBe(165n);
    // Half a cent rounds up.
    expect(discountOff({ case: "percentPpm", value: 150_000 }, 1010n)).toBe(152n);
    expect(discountOff({ case: "amount", value: 500n }, 300n)).toBe(300n);
    expect(discountOff({ case: "amount", value: 200n }, 300n)).toBe(200n);
  });
});

describe("the menu editor's fields", () => {
  it("reads price changes that may be negative", () => {
    expect(parseSigned("2.50", "EUR")).toBe(250n);
    expect(parseSigned("-0.50", "EUR")).toBe(-50n);
    expect(parseSigned("−1", "EUR")).toBe(-100n);
    expect(parseSigned("1.234", "EUR")).toBeNull();
    expect(parseSigned("-", "EUR")).toBeNull();
    expect(parseSigned("300", "JPY")).toBe(300n);
  });

  it("reads tax rates as percentages", () => {
    expect(parseRates("7")).toEqual([70_000]);
    expect(parseRates("5, 2.5")).toEqual([50_000, 25_000]);
    expect(parseRates("")).toEqual([]);
    expect(parseRates("7%")).toBeNull();
    expect(parseRates("101")).toBeNull();
  });
});

describe("chart bars", () => {
  it("are shares of the largest, with a sliver for small ones", () => {
    expect(share(50n, 100n)).toBe("50%");
    expect(share(100n, 100n)).toBe("100%");
    expect(share(0n, 100n)).toBe("0%");
    expect(share(1n, 1_000_000n)).toBe("1.5%");
    expect(share(5n, 0n)).toBe("0%");
  });
});
