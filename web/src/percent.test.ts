import { describe, expect, it } from "vitest";
import { parsePercent, percentRounded, percentText } from "./percent";

describe("percentages in parts per million", () => {
  it("shows a share rounded to one decimal, as the CLI does", () => {
    expect(percentRounded(72_941)).toBe("7.3%");
    expect(percentRounded(84_871)).toBe("8.5%");
    expect(percentRounded(84_949)).toBe("8.5%");
    expect(percentRounded(0)).toBe("0.0%");
    expect(percentRounded(1_000_000)).toBe("100.0%");
    expect(percentRounded(349_950)).toBe("35.0%");
  });

  it("reads and writes a typed percentage", () => {
    expect(parsePercent("12,5")).toBe(125_000);
    expect(parsePercent("101")).toBeNull();
    expect(percentText(125_000)).toBe("12.5");
  });
});
