import type { LineView } from "../gen/mpos/v1/pos_pb";

/**
 * Where one course of an order is. Course 1 is made as soon as it reaches the kitchen;
 * a later course is sent with it but held until the server fires it.
 */
export type CourseState = "unsent" | "cooking" | "held" | "fired";

export function courseState(course: number, lines: LineView[], fired: number[]): CourseState {
  const live = lines.filter((l) => !l.voided && l.course === course);
  if (!live.some((l) => l.sent)) return "unsent";
  if (fired.includes(course)) return "fired";
  return course <= 1 ? "cooking" : "held";
}

/** Courses with lines in the kitchen that wait for the server's word, lowest first. */
export function fireable(lines: LineView[], fired: number[]): number[] {
  const courses = [...new Set(lines.map((l) => l.course))].sort((a, b) => a - b);
  return courses.filter((c) => courseState(c, lines, fired) === "held");
}

/** Courses to offer for new lines: at least three, and one past the highest used (at most 9). */
export function courseChoices(lines: LineView[]): number[] {
  const highest = lines.reduce((m, l) => (l.voided ? m : Math.max(m, l.course)), 0);
  const count = Math.min(9, Math.max(3, highest + 1));
  return Array.from({ length: count }, (_, i) => i + 1);
}

/** Whether an order's lines are in more than one course (worth showing on each line). */
export function coursed(lines: LineView[]): boolean {
  return lines.some((l) => !l.voided && l.course > 1);
}
