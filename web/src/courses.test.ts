import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LineViewSchema } from "../gen/mpos/v1/pos_pb";
import { courseChoices, courseState, coursed, fireable } from "./courses";

const line = (course: number, sent: boolean, voided = false) => create(LineViewSchema, { course, sent, voided });

describe("courses", () => {
  const lines = [line(1, true), line(2, true), line(2, false), line(3, false), line(4, true, true)];

  it("cooks course 1 on sending, holds later ones until fired", () => {
    expect(courseState(1, lines, [])).toBe("cooking");
    expect(courseState(2, lines, [])).toBe("held");
    expect(courseState(2, lines, [2])).toBe("fired");
    expect(courseState(3, lines, [])).toBe("unsent");
    // A course whose only sent line was voided has nothing in the kitchen.
    expect(courseState(4, lines, [])).toBe("unsent");
  });

  it("offers to fire only held courses", () => {
    expect(fireable(lines, [])).toEqual([2]);
    expect(fireable(lines, [2])).toEqual([]);
    expect(fireable([line(1, true)], [])).toEqual([]);
  });

  it("offers three courses, or one past the highest used", () => {
    expect(courseChoices([])).toEqual([1, 2, 3]);
    expect(courseChoices([line(3, false)])).toEqual([1, 2, 3, 4]);
    expect(courseChoices([line(9, false)])).toHaveLength(9);
    expect(courseChoices([line(5, false, true)])).toEqual([1, 2, 3]);
  });

  it("shows courses only when an order has more than one", () => {
    expect(coursed([line(1, true), line(1, false)])).toBe(false);
    expect(coursed(lines)).toBe(true);
  });
});
