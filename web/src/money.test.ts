import { describe, expect, it } from "vitest";
import { decimal, exponent, formatMoney, parseMoney } from "./money";

describe("money", () => {
  it("knows each currency's minor unit", () => {
    expect(exponent("EUR")).toBe(2);
    expect(exponent("JPY")).toBe(0);
    expect(exponent("KWD")).toBe(3);
  });

  it("writes exact decimals without floats", () => {
    expect(decimal(1205n, "EUR")).toBe("12.05");
    expect(decimal(-5n, "EUR")).toBe("-0.05");
    expect(decimal(1200n, "JPY")).toBe("1200");
    expect(decimal(1n, "KWD")).toBe("0.001");
    // Beyond 2^53, where a float would round.
    expect(decimal(9007199254740993n, "EUR")).toBe("90071992547409.93");
  });

  it("formats for people", () => {
    expect(formatMoney(123456n, "EUR", "en-US")).toBe("€1,234.56");
    expect(formatMoney(123456n, "EUR", "de-DE")).toBe("1.234,56\u00a0€");
    expect(formatMoney(1200n, "JPY", "en-US")).toBe("¥1,200");
  });

  it("reads what a cashier types", () => {
    expect(parseMoney("12", "EUR")).toBe(1200n);
    expect(parseMoney("12.5", "EUR")).toBe(1250n);
    expect(parseMoney("12,50", "EUR")).toBe(1250n);
    expect(parseMoney("12.555", "EUR")).toBeNull();
    expect(parseMoney("-3", "EUR")).toBeNull();
    expect(parseMoney("abc", "EUR")).toBeNull();
    expect(parseMoney("1200", "JPY")).toBe(1200n);
    expect(parseMoney("12.5", "JPY")).toBeNull();
  });
});
