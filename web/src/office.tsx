import { useEffect, useRef, useState } from "preact/hooks";
import { Role } from "../gen/mpos/v1/events_pb";
import {
  Permission,
  type DayReportView,
  type DrawerView,
  type SalesView,
  type StaffEntry,
} from "../gen/mpos/v1/pos_pb";
import { explain, isSessionGone, may, pos, roleName, type Session } from "./api";
import { Columns, Ranking, type Bar } from "./charts";
import { Dialog, Editor } from "./dialog";
import { newId, sameId } from "./ids";
import { MenuEditor } from "./menu";
import { formatMoney, parseMoney } from "./money";
import { percentText } from "./percent";
import { midnight, PeriodTabs } from "./period";
import { FoodCost } from "./foodcost";
import { Registers } from "./registers";
import { Stock } from "./stock";

type Section = "sales" | "menu" | "stock" | "food-cost" | "staff" | "drawers" | "reports" | "registers";

const SECTIONS: { id: Section; label: string; permission: Permission }[] = [
  { id: "sales", label: "Sales", permission: Permission.REPORTS },
  { id: "menu", label: "Menu", permission: Permission.MANAGE_MENU },
  { id: "stock", label: "Stock", permission: Permission.STOCK },
  { id: "food-cost", label: "Food cost", permission: Permission.REPORTS },
  { id: "staff", label: "Staff", permission: Permission.MANAGE_STAFF },
  { id: "drawers", label: "Cash drawers", permission: Permission.DRAWER },
  { id: "reports", label: "Day reports", permission: Permission.REPORTS },
  { id: "registers", label: "Registers", permission: Permission.REPORTS },
];

export interface OfficeProps {
  session: Session;
  money: (m: bigint) => string;
  fail: (e: unknown) => void;
}

/** The back office: charts, menu, stock, staff, drawers and day reports for managers and owners. */
export function Office({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const allowed = SECTIONS.filter((s) => may(session, s.permission));
  const fromHash = location.hash.slice(1) as Section;
  const [section, setSectionState] = useState<Section>(
    allowed.some((s) => s.id === fromHash) ? fromHash : (allowed[0]?.id ?? "sales"),
  );
  const [error, setError] = useState("");
  const money = (m: bigint) => formatMoney(m, session.currency);
  const fail = (e: unknown) => {
    if (isSessionGone(e)) onSignOut();
    else setError(explain(e));
  };
  const setSection = (s: Section) => {
    setError("");
    history.replaceState(null, "", `#${s}`);
    setSectionState(s);
  };
  const props = { session, money, fail };
  return (
    <div class="office">
      <header class="topbar">
        <span class="brand">
          <span class="logo">M</span>
          Back office
        </span>
        <a class="ghost navlink" href="/">
          Register
        </a>
        <span class="who">
          {session.name} · {roleName[session.role]}
        </span>
        <button class="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav class="office-nav" aria-label="Back office">
        {allowed.map((s) => (
          <button key={s.id} class={section === s.id ? "tab on" : "tab"} aria-current={section === s.id ? "page" : undefined} onClick={() => setSection(s.id)}>
            {s.label}
          </button>
        ))}
      </nav>
      <main class="office-main">
        {allowed.length === 0 && <p class="muted">Your role has nothing to do in the back office.</p>}
        {error && (
          <p class="error" role="alert">
            {error}
            <button class="small" onClick={() => setError("")}>
              Dismiss
            </button>
          </p>
        )}
        {allowed.some((s) => s.id === section) && (
          <>
            {section === "sales" && <Sales {...props} />}
            {section === "menu" && <MenuEditor {...props} />}
            {section === "stock" && <Stock {...props} />}
            {section === "food-cost" && <FoodCost {...props} />}
            {section === "staff" && <Staff {...props} />}
            {section === "drawers" && <Drawers {...props} />}
            {section === "reports" && <Reports {...props} />}
            {section === "registers" && <Registers {...props} />}
          </>
        )}
      </main>
    </div>
  );
}

/** Midnight on this browser's clock, `back` days ago. */
function dayLabel(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).toLocaleDateString([], { day: "numeric", month: "short" });
}

function Sales({ money, fail }: OfficeProps) {
  const [days, setDays] = useState(7);
  const [sales, setSales] = useState<SalesView | null>(null);
  useEffect(() => {
    let stale = false;
    pos
      .getSales({ from: BigInt(midnight(days - 1)), to: 0n, utcOffsetMinutes: -new Date().getTimezoneOffset() })
      .then((s) => !stale && setSales(s))
      .catch(fail);
    return () => {
      stale = true;
    };
  }, [days]);
  const bars = (list: SalesView["items"], unit: string): Bar[] =>
    list.map((b) => ({ label: b.key, value: b.sales, detail: `${b.count} ${unit}` }));
  const average = sales && sales.orders > 0n ? (sales.total + sales.orders / 2n) / sales.orders : 0n;
  const busiest = sales?.hours.some((h) => h.count > 0n);
  return (
    <section class="office-section" aria-label="Sales">
      <header class="section-head">
        <h1>Sales</h1>
        <PeriodTabs days={days} onChange={setDays} />
      </header>
      {sales && (
        <>
          <div class="cards">
            <div class="card">
              <small>Sales</small>
              <strong data-testid="sales-total">{money(sales.total)}</strong>
            </div>
            <div class="card">
              <small>Orders</small>
              <strong data-testid="sales-orders">{sales.orders.toString()}</strong>
            </div>
            <div class="card">
              <small>Average ticket</small>
              <strong>{money(average)}</strong>
            </div>
          </div>
          <div class="chart-grid">
            {days > 1 && (
              <Columns
                title="By day"
                money={money}
                bars={sales.days.map((b) => ({ label: dayLabel(b.key), value: b.sales, detail: `${b.count} orders` }))}
                tick={(_, i) => sales.days.length <= 14 || i % Math.ceil(sales.days.length / 10) === 0}
              />
            )}
            <Columns
              title={busiest ? "By hour of the day" : "By hour of the day (no sales yet)"}
              money={money}
              bars={sales.hours.map((b) => ({ label: b.key.padStart(2, "0"), value: b.sales, detail: `${b.count} orders` }))}
              tick={(_, i) => i % 3 === 0}
            />
            {sales.locations.length > 1 && (
              <Ranking
                title="By restaurant"
                money={money}
                bars={bars(sales.locations, "orders").map((b) => ({ ...b, label: b.label || "No location" }))}
              />
            )}
            <Ranking title="Best sellers" money={money} bars={bars(sales.items, "sold")} />
            <Ranking title="By category" money={money} bars={bars(sales.categories, "sold")} />
            <Ranking title="By staff member" money={money} bars={bars(sales.staff, "orders")} />
          </div>
        </>
      )}
    </section>
  );
}

function Figure({ label, value, strong }: { label: string; value: string; strong?: boolean }) {
  return (
    <>
      <dt class={strong ? "strong" : ""}>{label}</dt>
      <dd class={strong ? "strong" : ""}>{value}</dd>
    </>
  );
}

/** A day's report as a card: the Z-report's figures a manager reads at close. */
export function DayReport({ r, money }: { r: DayReportView; money: (m: bigint) => string }) {
  return (
    <article class="report" aria-label={`${r.closed ? "Z" : "X"}-report, day ${r.day}`}>
      <header>
        <h2>
          {r.closed ? "Z-report" : "X-report"} · business day {r.day}
        </h2>
        <span class={r.closed ? "status closed" : "status open"}>{r.closed ? "closed" : "open"}</span>
      </header>
      <div class="report-grid">
        <dl class="figures">
          <Figure label="Orders" value={String(r.orders)} />
          <Figure label="Guests" value={String(r.guests)} />
          <Figure label="Gross sales" value={money(r.grossSales)} />
          <Figure label="Discounts" value={`−${money(r.discounts)}`} />
          <Figure label="Net sales" value={money(r.netSales)} />
          {r.tax.map((t) => (
            <Figure key={t.ratePpm} label={`Tax ${percentText(t.ratePpm)}%`} value={money(t.amount)} />
          ))}
          <Figure label="Service charges" value={money(r.serviceCharges)} />
          <Figure label="Sales total" value={money(r.salesTotal)} strong />
          <Figure label="Tips" value={money(r.tips)} />
        </dl>
        <dl class="figures">
          {r.tenders.map((t) => (
            <Figure key={t.tender} label={`${t.tender} (${t.payments})`} value={money(t.net)} />
          ))}
          <Figure label={`Voided lines (${r.voidedLines})`} value={money(r.voidedLinesAmount)} />
          <Figure label={`Voided orders (${r.voidedOrders})`} value={money(r.voidedOrdersAmount)} />
          <Figure label={`Refunds (${r.refunds})`} value={money(r.refunded)} />
          <Figure label="Cash variance" value={money(r.cashVariance)} strong />
          <Figure label={`Open orders (${r.openOrders})`} value={money(r.openOrdersDue)} />
        </dl>
      </div>
      {r.staff.length > 0 && (
        <table class="report-table">
          <thead>
            <tr>
              <th>Staff</th>
              <th>Orders</th>
              <th>Sales</th>
              <th>Tips</th>
              <th>Voided</th>
              <th>Refunded</th>
            </tr>
          </thead>
          <tbody>
            {r.staff.map((s) => (
              <tr key={s.name}>
                <td>{s.name}</td>
                <td>{s.orders}</td>
                <td>{money(s.sales)}</td>
                <td>{money(s.tips)}</td>
                <td>{money(s.voided)}</td>
                <td>{money(s.refunded)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

function Reports({ money, fail }: OfficeProps) {
  const [report, setReport] = useState<DayReportView | null>(null);
  const [today, setToday] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  // The same id until the Z is answered: a retry after a lost answer closes one day.
  const zId = useRef(newId());
  const show = (day: number) =>
    pos
      .getDayReport({ day })
      .then((r) => {
        setReport(r);
        if (day === 0) setToday(r.day);
      })
      .catch(fail);
  useEffect(() => {
    void show(0);
  }, []);
  const closeDay = async () => {
    setBusy(true);
    try {
      const z = await pos.closeDay({ requestId: zId.current });
      zId.current = newId();
      setReport(z);
      setToday(z.day + 1);
      setConfirming(false);
    } catch (e) {
      setConfirming(false);
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const past = Array.from({ length: Math.max(today - 1, 0) }, (_, i) => today - 1 - i).slice(0, 14);
  return (
    <section class="office-section" aria-label="Day reports">
      <header class="section-head">
        <h1>Day reports</h1>
        <div class="chips">
          <button class={report && !report.closed ? "tab on" : "tab"} onClick={() => void show(0)}>
            Today (X)
          </button>
          {past.map((d) => (
            <button key={d} class={report?.closed && report.day === d ? "tab on" : "tab"} onClick={() => void show(d)}>
              Day {d}
            </button>
          ))}
        </div>
      </header>
      {report && <DayReport r={report} money={money} />}
      {report && !report.closed && (
        <div class="close-day">
          {confirming ? (
            <>
              <p>
                Close business day {report.day}? The Z-report is written to the ledger and cannot be undone. Every
                drawer must be counted first.
              </p>
              <button class="ghost" onClick={() => setConfirming(false)}>
                Not yet
              </button>
              <button class="primary" disabled={busy} onClick={() => void closeDay()}>
                Close the day
              </button>
            </>
          ) : (
            <button class="primary" onClick={() => setConfirming(true)}>
              Close the day (Z-report)
            </button>
          )}
        </div>
      )}
    </section>
  );
}

function Drawers({ session, money, fail }: OfficeProps) {
  const [drawers, setDrawers] = useState<DrawerView[]>([]);
  const [name, setName] = useState("Front");
  const [float, setFloat] = useState("");
  const [moving, setMoving] = useState<{ drawer: DrawerView; out: boolean } | null>(null);
  const [counting, setCounting] = useState<DrawerView | null>(null);
  const [busy, setBusy] = useState(false);
  // One id per session being opened, kept until it is answered (a double tap opens one).
  const openIds = useRef({ request: newId(), drawer: newId() });
  const load = () =>
    pos
      .listDrawers({ limit: 12 })
      .then((r) => setDrawers(r.drawers))
      .catch(fail);
  useEffect(() => {
    void load();
  }, []);
  const act = async (send: () => Promise<unknown>) => {
    if (busy) return;
    setBusy(true);
    try {
      await send();
      setMoving(null);
      setCounting(null);
      await load();
      return true;
    } catch (e) {
      fail(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const floatMinor = float.trim() === "" ? 0n : parseMoney(float, session.currency);
  return (
    <section class="office-section" aria-label="Cash drawers">
      <header class="section-head">
        <h1>Cash drawers</h1>
      </header>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (floatMinor === null) return;
          const ids = openIds.current;
          void act(() =>
            pos.openDrawer({ requestId: ids.request, drawer: ids.drawer, name: name.trim(), float: floatMinor }),
          ).then((ok) => ok && (openIds.current = { request: newId(), drawer: newId() }));
        }}
      >
        <label>
          Drawer
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          Counted float ({session.currency})
          <input inputMode="decimal" value={float} placeholder="0.00" onInput={(e) => setFloat(e.currentTarget.value)} />
        </label>
        <button class="primary" disabled={busy || floatMinor === null || name.trim() === ""}>
          Open a session
        </button>
      </form>
      <table class="report-table drawers">
        <thead>
          <tr>
            <th>Drawer</th>
            <th>Opened</th>
            <th>Float</th>
            <th>Cash sales</th>
            <th>In / out</th>
            <th>Expected</th>
            <th>Counted</th>
            <th>Variance</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {drawers.map((d) => (
            <tr key={d.id.join(",")} data-testid={`drawer-${d.name}`}>
              <td>{d.name}</td>
              <td>{new Date(Number(d.openedAt)).toLocaleString([], { dateStyle: "short", timeStyle: "short" })}</td>
              <td>{money(d.float)}</td>
              <td>{money(d.cashSales - d.cashRefunds)}</td>
              <td>
                +{money(d.paidIn)} / −{money(d.paidOut)}
              </td>
              <td>{money(d.expected)}</td>
              <td>{d.counted !== undefined ? money(d.counted) : "—"}</td>
              <td class={d.variance !== undefined && d.variance < 0n ? "bad" : ""}>
                {d.variance !== undefined ? money(d.variance) : "—"}
              </td>
              <td class="row-actions">
                {!d.closed && (
                  <>
                    <button class="ghost" onClick={() => setMoving({ drawer: d, out: false })}>
                      Pay in
                    </button>
                    <button class="ghost" onClick={() => setMoving({ drawer: d, out: true })}>
                      Pay out
                    </button>
                    <button class="primary" onClick={() => setCounting(d)}>
                      Count &amp; close
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
          {drawers.length === 0 && (
            <tr>
              <td colSpan={9} class="muted">
                No drawer sessions yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {moving && (
        <AmountDialog
          title={`${moving.out ? "Pay out of" : "Pay into"} ${moving.drawer.name}`}
          currency={session.currency}
          reason
          busy={busy}
          onCancel={() => setMoving(null)}
          onDone={(amount, reason, requestId) =>
            void act(() => pos.moveCash({ requestId, drawer: moving.drawer.id, out: moving.out, amount, reason }))
          }
        />
      )}
      {counting && (
        <AmountDialog
          title={`Count ${counting.name}`}
          hint={`Count the cash in the drawer; the variance shows once it is closed.`}
          currency={session.currency}
          busy={busy}
          onCancel={() => setCounting(null)}
          onDone={(counted, _, requestId) => void act(() => pos.closeDrawer({ requestId, drawer: counting.id, counted }))}
        />
      )}
    </section>
  );
}

function AmountDialog({
  title,
  hint,
  currency,
  reason: askReason,
  busy,
  onDone,
  onCancel,
}: {
  title: string;
  hint?: string;
  currency: string;
  reason?: boolean;
  busy: boolean;
  /** `requestId` stays the same for this dialog: a second tap or a retry applies once. */
  onDone: (amount: bigint, reason: string, requestId: Uint8Array) => void;
  onCancel: () => void;
}) {
  const requestId = useRef(newId());
  const [text, setText] = useState("");
  const [reason, setReason] = useState("");
  const amount = parseMoney(text, currency);
  const ok = amount !== null && (!askReason || reason.trim() !== "");
  return (
    <Dialog
      label={title}
      onCancel={onCancel}
      onSubmit={() => ok && amount !== null && !busy && onDone(amount, reason.trim(), requestId.current)}
    >
      <header>
        <h2>{title}</h2>
        {hint && <p class="muted">{hint}</p>}
      </header>
      <label>
        Amount ({currency})
        <input inputMode="decimal" autoFocus value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      {askReason && (
        <label>
          Reason
          <input value={reason} maxLength={140} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
      )}
      <footer>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button class="primary" disabled={busy || !ok}>
          Done
        </button>
      </footer>
    </Dialog>
  );
}

const ROLES = [Role.OWNER, Role.MANAGER, Role.CASHIER, Role.SERVER, Role.KITCHEN];

function Staff({ session, fail }: OfficeProps) {
  const [staff, setStaff] = useState<StaffEntry[]>([]);
  const [editing, setEditing] = useState<StaffEntry | "new" | null>(null);
  const load = () =>
    pos
      .listStaff({ includeInactive: true })
      .then((r) => setStaff(r.staff))
      .catch(fail);
  useEffect(() => {
    void load();
  }, []);
  const setActive = (s: StaffEntry, active: boolean) =>
    pos
      .putStaff({ requestId: newId(), id: s.id, name: s.name, role: s.role, active })
      .then(load)
      .catch(fail);
  return (
    <section class="office-section" aria-label="Staff">
      <header class="section-head">
        <h1>Staff</h1>
        <button class="primary" onClick={() => setEditing("new")}>
          Add someone
        </button>
      </header>
      <table class="report-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {staff.map((s) => (
            <tr key={s.id.join(",")} class={s.active ? "" : "inactive"} data-testid={`staff-${s.name}`}>
              <td>{s.name}</td>
              <td>{roleName[s.role]}</td>
              <td>{s.active ? "working here" : "left"}</td>
              <td class="row-actions">
                <button class="ghost" onClick={() => setEditing(s)}>
                  Edit
                </button>
                {!sameId(s.id, session.staffId) && (
                  <button class="ghost" onClick={() => void setActive(s, !s.active)}>
                    {s.active ? "Mark as left" : "Back at work"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && (
        <StaffDialog
          member={editing === "new" ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void load();
          }}
        />
      )}
    </section>
  );
}

function StaffDialog({ member, onSaved, onCancel }: { member: StaffEntry | null; onSaved: () => void; onCancel: () => void }) {
  const [name, setName] = useState(member?.name ?? "");
  const [role, setRole] = useState<Role>(member?.role ?? Role.SERVER);
  const [pin, setPin] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  // One id for the person, kept across tries: a PIN refused after the name was saved
  // is fixed and saved again for the same person, not a second one.
  const [id] = useState(member?.id ?? newId());
  const pinOk = (member && pin === "") || /^\d{4,8}$/.test(pin);
  const save = async () => {
    setBusy(true);
    setError("");
    try {
      if (!member || name.trim() !== member.name || role !== member.role) {
        await pos.putStaff({ requestId: newId(), id, name: name.trim(), role, active: member?.active ?? true });
      }
      if (pin) await pos.setPin({ requestId: newId(), staff: id, pin });
      onSaved();
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Editor
      label={member ? `Edit ${member.name}` : "Add someone"}
      heading={member ? member.name : "Someone new"}
      error={error}
      busy={busy}
      ok={name.trim() !== "" && !!pinOk}
      onSave={() => void save()}
      onCancel={onCancel}
    >
      <label>
        Name
        <input value={name} maxLength={60} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <fieldset>
        <legend>Role</legend>
        <div class="options">
          {ROLES.map((r) => (
            <button type="button" key={r} class={role === r ? "option on" : "option"} aria-pressed={role === r} onClick={() => setRole(r)}>
              {roleName[r]}
            </button>
          ))}
        </div>
      </fieldset>
      <label>
        {member ? "New PIN (leave empty to keep theirs)" : "PIN (4 to 8 digits)"}
        <input inputMode="numeric" type="password" autoComplete="new-password" value={pin} maxLength={8} onInput={(e) => setPin(e.currentTarget.value)} />
      </label>
    </Editor>
  );
}
