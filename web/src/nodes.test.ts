import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { NodeViewSchema } from "../gen/mpos/v1/pos_pb";
import { ago, lastHeardByLocation } from "./nodes";

describe("the organization's nodes", () => {
  it("says how long ago a node was heard from", () => {
    const now = 1_764_000_000_000;
    expect(ago(now, 0n)).toBe("never");
    expect(ago(now, BigInt(now - 5_000))).toBe("just now");
    expect(ago(now, BigInt(now + 5_000))).toBe("just now");
    expect(ago(now, BigInt(now - 4 * 60_000))).toBe("4 min ago");
    expect(ago(now, BigInt(now - 3 * 3_600_000))).toBe("3 h ago");
    expect(ago(now, BigInt(now - 50 * 3_600_000))).toBe("2 days ago");
  });

  it("takes the latest news of the nodes selling at each location, not of revoked ones", () => {
    const at = (b: number) => new Uint8Array(16).fill(b);
    const nodes = [
      create(NodeViewSchema, { name: "Till 1", location: at(1), lastHeard: 100n }),
      create(NodeViewSchema, { name: "Till 2", location: at(1), lastHeard: 300n }),
      create(NodeViewSchema, { name: "Harbour", location: at(2), lastHeard: 200n }),
      create(NodeViewSchema, { name: "Stolen", location: at(2), lastHeard: 900n, revoked: true }),
      create(NodeViewSchema, { name: "Office", lastHeard: 999n }),
    ];
    const heard = lastHeardByLocation(nodes);
    expect([...heard.entries()]).toEqual([
      ["01".repeat(16), 300n],
      ["02".repeat(16), 200n],
    ]);
  });
});
