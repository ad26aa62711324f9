// The organization's nodes as the back office shows them: how long ago each was last heard
// from, and, for each location, the latest news of the nodes that sell there.
import type { NodeView } from "../gen/mpos/v1/pos_pb";
import { hex } from "./ids";

/** "just now", "4 min ago", "3 h ago", "2 days ago"; "never" for nothing heard. */
export function ago(nowMillis: number, thenMillis: bigint): string {
  if (thenMillis === 0n) return "never";
  const seconds = Math.max(0, Math.floor((nowMillis - Number(thenMillis)) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** For each location (by hex id), when any node selling there was last heard from. */
export function lastHeardByLocation(nodes: NodeView[]): Map<string, bigint> {
  const heard = new Map<string, bigint>();
  for (const n of nodes) {
    if (n.location.length === 0 || n.revoked) continue;
    const at = hex(n.location);
    const before = heard.get(at) ?? 0n;
    if (n.lastHeard > before) heard.set(at, n.lastHeard);
  }
  return heard;
}
