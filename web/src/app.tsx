import { useState } from "preact/hooks";
import { currentSession, keepSession, type Session } from "./api";
import { Login } from "./login";
import { Register } from "./register";

/** The register: PIN login, then the menu and the ticket. */
export function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const signIn = (s: Session | null) => {
    keepSession(s);
    setSession(s);
  };
  return session ? (
    <Register session={session} onSignOut={() => signIn(null)} />
  ) : (
    <Login onSignIn={signIn} />
  );
}
