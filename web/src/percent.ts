// Percentages as the node keeps them: integer parts per million (7% is 70,000).

/** A percentage typed by a person ("7", "12.5", "12,5"), 0 to 100, in ppm; null if not one. */
export function parsePercent(text: string): number | null {
  const m = /^\s*(\d{1,3})(?:[.,](\d{0,4}))?\s*$/.exec(text);
  if (!m) return null;
  const ppm = Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0"));
  return ppm <= 1_000_000 ? ppm : null;
}

/** `ppm` as a percentage, without the sign: 70000 is "7", 125000 is "12.5". */
export function percentText(ppm: number): string {
  return String(ppm / 10_000);
}

/** `ppm` rounded to one decimal, with the sign: 72941 is "7.3%", 0 is "0.0%". */
export function percentRounded(ppm: number): string {
  const tenths = Math.round(ppm / 1_000);
  return `${Math.floor(tenths / 10)}.${tenths % 10}%`;
}
