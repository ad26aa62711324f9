import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { ModifierGroupSchema } from "../gen/mpos/v1/events_pb";
import { groupShortfall, toggle } from "./choose";

const id = (n: number) => new Uint8Array([n]);
const group = (min: number, max: number) =>
  create(ModifierGroupSchema, {
    id: id(100),
    name: "Sides",
    min,
    max,
    options: [1, 2, 3].map((n) => ({ id: id(n), name: `o${n}` })),
  });

describe("modifier picker", () => {
  it("keeps a one-choice group to one: a new choice replaces the old", () => {
    const g = group(1, 1);
    let chosen = toggle(g, [], id(1));
    chosen = toggle(g, chosen, id(2));
    expect(chosen).toEqual([id(2)]);
  });

  it("refuses a choice past the maximum and frees one when unticked", () => {
    const g = group(0, 2);
    let chosen = toggle(g, [], id(1));
    chosen = toggle(g, chosen, id(2));
    expect(toggle(g, chosen, id(3))).toEqual(chosen);
    chosen = toggle(g, chosen, id(1));
    expect(toggle(g, chosen, id(3))).toEqual([id(2), id(3)]);
  });

  it("leaves other groups' choices alone", () => {
    const g = group(1, 1);
    expect(toggle(g, [id(9)], id(1))).toEqual([id(9), id(1)]);
    expect(toggle(g, [id(9), id(1)], id(2))).toEqual([id(9), id(2)]);
  });

  it("says what a group still needs", () => {
    expect(groupShortfall(group(2, 3), 0)).toBe("choose 2 more");
    expect(groupShortfall(group(2, 3), 2)).toBe("");
    expect(groupShortfall(group(0, 3), 0)).toBe("");
  });
});
