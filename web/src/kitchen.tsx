import { useEffect, useState } from "preact/hooks";
import { Channel, type Category, type Source } from "../gen/mpos/v1/events_pb";
import type { KitchenTicket, KitchenView, LineView } from "../gen/mpos/v1/pos_pb";
import { explain, isSessionGone, keepLive, pos, type Link, type Session } from "./api";
import { fromHex, hex, newId } from "./ids";
import { courseState, coursed, type CourseState } from "./courses";

/** Where a ticket came from, as the kitchen calls it. */
export function sourceName(source: Source | undefined, channel: Channel): string {
  switch (source?.kind.case) {
    case "selfOrder":
      return "Self-order";
    case "online":
      return "Online";
    case "aggregator":
      return source.kind.value || "Delivery";
    default:
      return channel === Channel.TABLE
        ? "Table"
        : channel === Channel.DELIVERY
          ? "Delivery"
          : "Counter";
  }
}

/** A ticket's age as a kitchen clock shows it: m:ss, then h:mm:ss. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Minutes after which a ticket turns amber, then red. */
const LATE = 10;
const VERY_LATE = 20;

/** Stations named by the categories they make (stations have no names of their own). */
function stations(categories: Category[]): { id: string; label: string }[] {
  const out: { id: string; label: string }[] = [];
  for (const c of categories) {
    if (c.station.length === 0) continue;
    const id = hex(c.station);
    const s = out.find((x) => x.id === id);
    if (s) s.label += ` · ${c.name}`;
    else out.push({ id, label: c.name });
  }
  return out;
}

/**
 * A ticket's lines in course order, each course headed when the ticket has more than
 * one: a later course is held until the server fires it, and shows so.
 */
export function ticketLines(
  t: KitchenTicket,
): { line: LineView; held: boolean; head?: { course: number; state: CourseState } }[] {
  if (!coursed(t.lines)) return t.lines.map((line) => ({ line, held: false }));
  const sorted = [...t.lines].sort((a, b) => a.course - b.course);
  return sorted.map((line, i) => {
    const state = courseState(line.course, t.lines, t.firedCourses);
    const first = i === 0 || sorted[i - 1]?.course !== line.course;
    return { line, held: state === "held", ...(first ? { head: { course: line.course, state } } : {}) };
  });
}

function ticketKey(t: KitchenTicket): string {
  return `${hex(t.order)}-${t.round}-${hex(t.station)}`;
}

/** The kitchen display: tickets per station, live, with age timers; bump and recall. */
export function Kitchen({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [view, setView] = useState<KitchenView | null>(null);
  const [link, setLink] = useState<Link>("connecting");
  const [why, setWhy] = useState("");
  const [station, setStation] = useState("");
  const [choices, setChoices] = useState<{ id: string; label: string }[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState("");
  // The node's clock minus ours, so ages are right even if this tablet's clock is not.
  const [skew, setSkew] = useState(0);
  const [now, setNow] = useState(Date.now());

  const fail = (e: unknown) => {
    if (isSessionGone(e)) onSignOut();
    else setError(explain(e));
  };

  useEffect(() => {
    pos
      .getMenu({})
      .then((m) => setChoices(stations(m.categories)))
      .catch(fail);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  useEffect(() => {
    const wanted = fromHex(station) ?? new Uint8Array();
    return keepLive(
      (signal) => pos.watchKitchen({ station: wanted, bumped: 6 }, { signal }),
      (v) => {
        setView(v);
        setSkew(Number(v.now) - Date.now());
        setError("");
      },
      (l, w) => {
        setLink(l);
        setWhy(w ?? "");
      },
      fail,
    );
  }, [station]);

  const act = async (t: KitchenTicket, bump: boolean) => {
    const lines = t.lines.filter((l) => (bump ? l.readyAt === 0n : l.readyAt !== 0n)).map((l) => l.id);
    setBusy(ticketKey(t));
    setError("");
    try {
      const req = { requestId: newId(), order: t.order, lines };
      await (bump ? pos.bumpTicket(req) : pos.recallTicket(req));
    } catch (e) {
      fail(e);
    } finally {
      setBusy("");
    }
  };

  const nodeNow = now + skew;
  const tickets = view?.tickets ?? [];

  return (
    <div class="kitchen">
      <header class="kds-bar">
        <span class="brand">
          <span class="logo">M</span>Kitchen
        </span>
        <nav class="kds-stations" aria-label="Stations">
          <button class={station === "" ? "tab on" : "tab"} onClick={() => setStation("")}>
            All stations
          </button>
          {choices.map((s) => (
            <button key={s.id} class={station === s.id ? "tab on" : "tab"} onClick={() => setStation(s.id)}>
              {s.label}
            </button>
          ))}
        </nav>
        <span class={`link ${link}`} title={why}>
          {link === "live" ? "● Live" : link === "connecting" ? "Connecting…" : "Reconnecting…"}
        </span>
        <span class="who">{session.name}</span>
        <button class="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <main class="kds-tickets" aria-label="Tickets">
        {tickets.map((t) => {
          const minutes = (nodeNow - Number(t.sentAt)) / 60000;
          const late = minutes >= VERY_LATE ? "very-late" : minutes >= LATE ? "late" : "";
          return (
            <article key={ticketKey(t)} class={`kds-ticket ${late}`} data-testid="ticket" aria-label={`Ticket ${t.number}`}>
              <header>
                <span class="number">#{t.number}</span>
                <span class="age" data-testid="age">
                  {age(nodeNow - Number(t.sentAt))}
                </span>
              </header>
              <div class="meta">
                <span class={`source ${sourceName(t.source, t.channel).toLowerCase().replace(/[^a-z]/g, "")}`}>
                  {sourceName(t.source, t.channel)}
                </span>
                {t.table && <span class="table">Table {t.table}</span>}
                {t.guests > 1 && <span>{t.guests} guests</span>}
                {t.round > 1 && <span>Round {t.round}</span>}
              </div>
              {t.orderVoided && <p class="voided-banner">VOIDED: stop</p>}
              <ul>
                {ticketLines(t).map(({ line: l, head, held }) => [
                  head && (
                    <li key={`course-${head.course}`} class={`course-head ${head.state}`} data-testid="course">
                      Course {head.course}
                      {head.state === "held" ? " · HOLD" : head.state === "fired" ? " · FIRE" : ""}
                    </li>
                  ),
                  <li key={hex(l.id)} class={l.voided ? "void" : held ? "held" : undefined}>
                    <span class="qty">{l.item?.quantity}</span>
                    <span class="what">
                      {l.item?.name}
                      {l.item?.variantName && <em> · {l.item.variantName}</em>}
                      {l.item?.modifiers.map((m) => (
                        <small key={m.name}>+ {m.name}</small>
                      ))}
                      {l.note && <small class="note">“{l.note}”</small>}
                      {l.seat > 0 && <small>Seat {l.seat}</small>}
                      {l.voided && <small class="void-mark">VOID</small>}
                    </span>
                  </li>,
                ])}
              </ul>
              <button class="bump" disabled={busy === ticketKey(t)} onClick={() => void act(t, true)}>
                Bump
              </button>
            </article>
          );
        })}
        {view && tickets.length === 0 && <p class="kds-empty">All caught up.</p>}
      </main>
      {view && view.bumped.length > 0 && (
        <footer class="kds-recall" aria-label="Bumped">
          <span class="muted">Bumped</span>
          {view.bumped.map((t) => (
            <button
              key={ticketKey(t)}
              class="recall"
              disabled={busy === ticketKey(t)}
              onClick={() => void act(t, false)}
              aria-label={`Recall ${t.number}`}
            >
              #{t.number} <small>{t.table || sourceName(t.source, t.channel)}</small> ↺
            </button>
          ))}
        </footer>
      )}
    </div>
  );
}
