import { useState } from "preact/hooks";
import { Role } from "../gen/mpos/v1/events_pb";
import { currentSession, keepSession, type Session } from "./api";
import { GuestMenu } from "./guest";
import { Kitchen } from "./kitchen";
import { Login } from "./login";
import { Office } from "./office";
import { Register } from "./register";

/** The table's token in a self-ordering link (`/t/<token>`), if this is one. */
export function tableToken(path: string): string | null {
  const m = /^\/t\/([A-Za-z0-9_-]{16,64})\/?$/.exec(path);
  return m?.[1] ?? null;
}

/** One app, four doors: a table's link for guests, the kitchen display, the back office, the register. */
export function App() {
  const token = tableToken(location.pathname);
  const [session, setSession] = useState<Session | null>(currentSession());
  if (location.pathname.startsWith("/t/")) {
    return token ? <GuestMenu token={token} /> : <GuestMenu token="" />;
  }
  const signIn = (s: Session | null) => {
    keepSession(s);
    setSession(s);
  };
  if (!session) return <Login onSignIn={signIn} />;
  const kitchen = location.pathname.startsWith("/kitchen") || session.role === Role.KITCHEN;
  if (location.pathname.startsWith("/office") && !kitchen) {
    return <Office session={session} onSignOut={() => signIn(null)} />;
  }
  return kitchen ? (
    <Kitchen session={session} onSignOut={() => signIn(null)} />
  ) : (
    <Register session={session} onSignOut={() => signIn(null)} />
  );
}
