// Charts drawn with plain elements: columns over time and ranked bars. Heights and
// widths are shares of the largest value, computed from integers.

/** A bar's share of the largest one, as a CSS percentage (at least a sliver if non-zero). */
export function share(value: bigint, largest: bigint): string {
  if (largest <= 0n || value <= 0n) return "0%";
  const tenths = (value * 1000n) / largest;
  return `${Math.max(Number(tenths) / 10, 1.5)}%`;
}

export interface Bar {
  label: string;
  value: bigint;
  /** Shown under the value (orders, units). */
  detail?: string;
}

/** Columns in time order (hours, days): the value on hover and for screen readers. */
export function Columns({
  title,
  bars,
  money,
  tick,
}: {
  title: string;
  bars: Bar[];
  money: (m: bigint) => string;
  /** Which labels to print under the axis (every label when absent). */
  tick?: (label: string, i: number) => boolean;
}) {
  const largest = bars.reduce((m, b) => (b.value > m ? b.value : m), 0n);
  const best = bars.find((b) => b.value === largest && largest > 0n);
  return (
    <figure class="chart columns" aria-label={title}>
      <figcaption>
        <span>{title}</span>
        {best && (
          <small class="muted">
            Best: {best.label} · {money(best.value)}
          </small>
        )}
      </figcaption>
      <div class="plot" style={{ gridTemplateColumns: `repeat(${bars.length}, 1fr)` }}>
        {bars.map((b, i) => (
          <div class="col" key={b.label} title={`${b.label}: ${money(b.value)}${b.detail ? ` · ${b.detail}` : ""}`}>
            <div class={b.value === largest && largest > 0n ? "fill top" : "fill"} style={{ height: share(b.value, largest) }} />
            <span class="tick">{!tick || tick(b.label, i) ? b.label : ""}</span>
          </div>
        ))}
      </div>
    </figure>
  );
}

/** Horizontal bars, largest first: best sellers, categories, staff. */
export function Ranking({ title, bars, money, limit = 10 }: { title: string; bars: Bar[]; money: (m: bigint) => string; limit?: number }) {
  const shown = bars.slice(0, limit);
  const largest = shown.reduce((m, b) => (b.value > m ? b.value : m), 0n);
  return (
    <figure class="chart ranking" aria-label={title}>
      <figcaption>
        <span>{title}</span>
        {bars.length > limit && <small class="muted">top {limit} of {bars.length}</small>}
      </figcaption>
      {shown.length === 0 && <p class="muted">No sales in this period.</p>}
      <ol>
        {shown.map((b) => (
          <li key={b.label}>
            <span class="label">{b.label}</span>
            <span class="track">
              <span class="fill" style={{ width: share(b.value, largest) }} />
            </span>
            <span class="value">
              {money(b.value)}
              {b.detail && <small class="muted"> · {b.detail}</small>}
            </span>
          </li>
        ))}
      </ol>
    </figure>
  );
}
