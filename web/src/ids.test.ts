import { describe, expect, it } from "vitest";
import { fromHex, hex, newId, sameId } from "./ids";

describe("ids", () => {
  it("are UUIDv7: time first, version and variant set", () => {
    const id = newId(0x0123456789ab);
    expect(hex(id).slice(0, 12)).toBe("0123456789ab");
    expect((id[6] ?? 0) >> 4).toBe(7);
    expect((id[8] ?? 0) >> 6).toBe(2);
  });

  it("sort by time and never repeat", () => {
    const a = newId(1000);
    const b = newId(1001);
    expect(hex(a) < hex(b)).toBe(true);
    expect(sameId(newId(5), newId(5))).toBe(false);
  });
});

describe("fromHex", () => {
  it("reads back what hex wrote, and refuses what is not hex", () => {
    const id = newId();
    expect(fromHex(hex(id))).toEqual(id);
    expect(fromHex("")).toEqual(new Uint8Array());
    expect(fromHex("abc")).toBeNull();
    expect(fromHex("zz")).toBeNull();
  });
});
