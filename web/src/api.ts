// The node's API as the web app uses it: the same gRPC contract (`mpos.v1.Pos`) as every
// other client, spoken as gRPC-Web, with TypeScript generated from the .proto files.

import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Role } from "../gen/mpos/v1/events_pb";
import { Guest } from "../gen/mpos/v1/guest_pb";
import { Permission, Pos } from "../gen/mpos/v1/pos_pb";

export interface Session {
  token: string;
  staffId: Uint8Array;
  name: string;
  role: Role;
  currency: string;
  expiresAt: number;
  /** What the role may do, as the node said at sign-in: the node still checks every call. */
  permissions: Permission[];
}

/** Whether the signed-in role may do `p` (to offer it, or to ask a manager first). */
export function may(s: Session, p: Permission): boolean {
  return s.permissions.includes(p);
}

const KEY = "mpos.session";

function restore(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Omit<Session, "staffId"> & { staffId: number[] };
    // Expired, or saved before sessions said what the role may do: sign in again.
    if (s.expiresAt <= Date.now() || !Array.isArray(s.permissions)) return null;
    return { ...s, staffId: new Uint8Array(s.staffId) };
  } catch {
    return null;
  }
}

let session: Session | null = restore();

export function currentSession(): Session | null {
  return session;
}

export function keepSession(s: Session | null): void {
  session = s;
  if (s) {
    sessionStorage.setItem(KEY, JSON.stringify({ ...s, staffId: Array.from(s.staffId) }));
  } else {
    sessionStorage.removeItem(KEY);
  }
}

// A call made on someone else's authority (a manager's approval) brings its own header.
const withSession: Interceptor = (next) => async (req) => {
  if (session && !req.header.has("authorization")) {
    req.header.set("authorization", `Bearer ${session.token}`);
  }
  return next(req);
};

/** Call options that make one call as the staff member whose session `token` is. */
export function as(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${token}` } };
}

// The node that served the page; unit tests import this module without a page.
const origin = typeof location === "undefined" ? "http://127.0.0.1" : location.origin;

export const pos = createClient(
  Pos,
  createGrpcWebTransport({ baseUrl: origin, interceptors: [withSession] }),
);

/** The guest API: a table's link is its only credential, so no staff session goes with it. */
export const guest = createClient(Guest, createGrpcWebTransport({ baseUrl: origin }));

/** How a live view's connection is doing, for the banner that says so. */
export type Link = "connecting" | "live" | "reconnecting";

/**
 * Keeps a live view (a server stream) open: each message goes to `onView`; when the
 * stream ends or fails (the node restarts, the network drops) it opens again after a
 * short, growing pause, and the first message brings the whole view back. A refusal that
 * retrying cannot fix (a session gone, a bad link) goes to `onRefused` and stops it.
 * Returns the function that closes it.
 */
export function keepLive<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  onView: (view: T) => void,
  onLink: (link: Link, why?: string) => void,
  onRefused: (e: unknown) => void,
): () => void {
  const stop = new AbortController();
  void (async () => {
    let pause = 500;
    while (!stop.signal.aborted) {
      try {
        for await (const view of open(stop.signal)) {
          pause = 500;
          onLink("live");
          onView(view);
        }
        if (stop.signal.aborted) return;
        onLink("reconnecting", "the node closed the live view");
      } catch (e) {
        if (stop.signal.aborted) return;
        if (!isLost(e) && !(e instanceof ConnectError && e.code === Code.Canceled)) {
          onRefused(e);
          return;
        }
        onLink("reconnecting", explain(e));
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 5000);
    }
  })();
  return () => stop.abort();
}

/** What the node said, for a person: its own message, which names the problem. */
export function explain(e: unknown): string {
  if (e instanceof ConnectError) {
    if (isLost(e)) {
      return `The node cannot be reached (${e.rawMessage}). Check the connection and try again.`;
    }
    return e.rawMessage;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The request may not have reached the node, or its answer was lost on the way back. */
export function isLost(e: unknown): boolean {
  return (
    e instanceof ConnectError &&
    [Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Aborted].includes(e.code)
  );
}

export function isSessionGone(e: unknown): boolean {
  return e instanceof ConnectError && e.code === Code.Unauthenticated;
}

export const roleName: Record<Role, string> = {
  [Role.UNSPECIFIED]: "",
  [Role.OWNER]: "Owner",
  [Role.MANAGER]: "Manager",
  [Role.CASHIER]: "Cashier",
  [Role.SERVER]: "Server",
  [Role.KITCHEN]: "Kitchen",
};
