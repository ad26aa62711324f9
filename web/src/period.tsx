// The stretches of time the back office's reports offer, counted from local midnights,
// and the tabs that pick one.

const RANGES = [
  { days: 1, label: "Today" },
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
];

/** Local midnight `back` days ago, in milliseconds since the epoch. */
export function midnight(back: number): number {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - back);
  return d.getTime();
}

/** The period tabs of a report's header. */
export function PeriodTabs({ days, onChange }: { days: number; onChange: (days: number) => void }) {
  return (
    <div class="segmented ranges" role="tablist" aria-label="Period">
      {RANGES.map((r) => (
        <button key={r.days} role="tab" aria-selected={days === r.days} class={days === r.days ? "on" : ""} onClick={() => onChange(r.days)}>
          {r.label}
        </button>
      ))}
    </div>
  );
}
