import { KitchenStatus, type TableView } from "../gen/mpos/v1/pos_pb";
import { hex, sameId } from "./ids";
import { Dialog } from "./dialog";

/** A table's state on the floor plan, in a word. */
export function tableState(t: TableView): "free" | "seated" | "ready" | "out" {
  if (!t.table?.active) return "out";
  if (t.orders.length === 0) return "free";
  return t.orders.some((o) => o.kitchen === KitchenStatus.READY) ? "ready" : "seated";
}

/** The floor: tables by area, each free or with its orders, what is due and the kitchen's news. */
export function Floor({
  tables,
  money,
  current,
  onPick,
}: {
  tables: TableView[];
  money: (minor: bigint) => string;
  current?: Uint8Array;
  onPick: (t: TableView) => void;
}) {
  const areas: string[] = [];
  for (const t of tables) if (t.table && !areas.includes(t.table.area)) areas.push(t.table.area);
  return (
    <section class="floor" aria-label="Tables">
      {areas.map((area) => (
        <div key={area} class="area">
          <h3>{area || "Floor"}</h3>
          <div class="floor-grid">
            {tables
              .filter((t) => t.table?.area === area)
              .map((t) => {
                const table = t.table;
                if (!table) return null;
                const state = tableState(t);
                const due = t.orders.reduce((sum, o) => sum + o.balance, 0n);
                const guests = t.orders.reduce((n, o) => n + o.guests, 0);
                const here = current && t.orders.some((o) => sameId(o.id, current));
                return (
                  <button
                    key={hex(table.id)}
                    class={`table-card ${state}${here ? " here" : ""}`}
                    onClick={() => onPick(t)}
                    aria-label={`Table ${table.name}, ${state}`}
                    data-testid={`table-${table.name}`}
                  >
                    <span class="name">{table.name}</span>
                    {state === "free" ? (
                      <span class="muted">{table.seats} seats · free</span>
                    ) : (
                      <>
                        <span>
                          {guests} guest{guests === 1 ? "" : "s"} · {money(due)} due
                        </span>
                        {t.orders.length > 1 && <span class="muted">{t.orders.length} orders</span>}
                      </>
                    )}
                    {state === "ready" && <span class="badge ready">Ready</span>}
                    {state === "seated" && t.orders.some((o) => o.kitchen === KitchenStatus.PREPARING) && (
                      <span class="badge cooking">Preparing</span>
                    )}
                  </button>
                );
              })}
          </div>
        </div>
      ))}
      {tables.length === 0 && <p class="muted empty">No tables yet: add them in the back office.</p>}
    </section>
  );
}

/** How many guests sit down at a free table. */
export function Guests({
  table,
  onSeat,
  onCancel,
}: {
  table: TableView;
  onSeat: (guests: number) => void;
  onCancel: () => void;
}) {
  const seats = table.table?.seats ?? 4;
  const choices = Array.from({ length: Math.max(seats, 8) }, (_, i) => i + 1);
  return (
    <Dialog label={`Seat table ${table.table?.name}`} onCancel={onCancel}>
      <header>
        <h2>Table {table.table?.name}: how many guests?</h2>
        <p class="muted">{seats} seats</p>
      </header>
      <div class="options guests">
        {choices.map((n) => (
          <button key={n} class="option" onClick={() => onSeat(n)} aria-label={`${n} guest${n === 1 ? "" : "s"}`}>
            {n}
          </button>
        ))}
      </div>
      <footer>
        <button class="ghost" onClick={onCancel}>
          Cancel
        </button>
      </footer>
    </Dialog>
  );
}
