import { useState } from "preact/hooks";
import { Channel, type ModifierGroup } from "../gen/mpos/v1/events_pb";
import type { MenuItemView } from "../gen/mpos/v1/pos_pb";
import { sameId } from "./ids";
import { priceOn } from "./prices";
import { Dialog } from "./dialog";

export interface Choice {
  variant?: Uint8Array;
  modifiers: Uint8Array[];
  note: string;
}

/** What is still missing in a group: "" when its choices are within min..max. */
export function groupShortfall(group: ModifierGroup, chosen: number): string {
  if (chosen < group.min) {
    const left = group.min - chosen;
    return `choose ${left} more`;
  }
  return "";
}

/** Toggles `option` in `chosen`, keeping the group within its maximum. */
export function toggle(group: ModifierGroup, chosen: Uint8Array[], option: Uint8Array): Uint8Array[] {
  const mine = chosen.filter((c) => group.options.some((o) => sameId(o.id, c)));
  if (mine.some((c) => sameId(c, option))) return chosen.filter((c) => !sameId(c, option));
  if (group.max === 1) {
    // One choice at most: the new one replaces the old.
    return [...chosen.filter((c) => !mine.some((m) => sameId(m, c))), option];
  }
  if (group.max > 0 && mine.length >= group.max) return chosen;
  return [...chosen, option];
}

/** The modifier picker: a variant if the item has them, each group within its min..max. */
export function Choose({
  view,
  money,
  onChoose,
  onCancel,
  channel = Channel.COUNTER,
  action = "Add",
}: {
  view: MenuItemView;
  money: (minor: bigint) => string;
  channel?: Channel;
  action?: string;
  onChoose: (c: Choice) => void;
  onCancel: () => void;
}) {
  const item = view.item;
  const [variant, setVariant] = useState<Uint8Array | undefined>(undefined);
  const [chosen, setChosen] = useState<Uint8Array[]>([]);
  const [note, setNote] = useState("");
  if (!item) return null;

  const countIn = (g: ModifierGroup) =>
    chosen.filter((c) => g.options.some((o) => sameId(o.id, c))).length;
  const variantMissing = item.variants.length > 0 && !variant;
  const short = view.modifierGroups.some((g) => groupShortfall(g, countIn(g)) !== "");
  let price = priceOn(view, channel);
  const v = item.variants.find((x) => variant && sameId(x.id, variant));
  if (v) price += v.priceDelta;
  for (const g of view.modifierGroups)
    for (const o of g.options) if (chosen.some((c) => sameId(c, o.id))) price += o.priceDelta;

  return (
    <Dialog label={`Options for ${item.name}`} onCancel={onCancel}>
      <header>
        <h2>{item.name}</h2>
        {item.description && <p class="muted">{item.description}</p>}
      </header>
      {item.variants.length > 0 && (
        <fieldset>
          <legend>
            Size <span class={variantMissing ? "need" : "ok"}>{variantMissing ? "choose 1" : "✓"}</span>
          </legend>
          <div class="options">
            {item.variants.map((x) => (
              <button
                key={x.name}
                class={variant && sameId(variant, x.id) ? "option on" : "option"}
                aria-pressed={!!variant && sameId(variant, x.id)}
                onClick={() => setVariant(x.id)}
              >
                {x.name}
                {x.priceDelta !== 0n && <small>{x.priceDelta > 0n ? "+" : ""}{money(x.priceDelta)}</small>}
              </button>
            ))}
          </div>
        </fieldset>
      )}
      {view.modifierGroups.map((g) => {
        const n = countIn(g);
        const missing = groupShortfall(g, n);
        const full = g.max > 0 && n >= g.max && g.max !== 1;
        return (
          <fieldset key={g.name}>
            <legend>
              {g.name}{" "}
              <span class={missing ? "need" : "ok"}>
                {missing ||
                  (g.min === 0 ? `optional${g.max > 0 ? `, up to ${g.max}` : ""}` : "✓")}
              </span>
            </legend>
            <div class="options">
              {g.options.map((o) => {
                const on = chosen.some((c) => sameId(c, o.id));
                return (
                  <button
                    key={o.name}
                    class={on ? "option on" : "option"}
                    aria-pressed={on}
                    disabled={!on && full}
                    onClick={() => setChosen(toggle(g, chosen, o.id))}
                  >
                    {o.name}
                    {o.priceDelta !== 0n && <small>+{money(o.priceDelta)}</small>}
                  </button>
                );
              })}
            </div>
          </fieldset>
        );
      })}
      <label class="note">
        Note for the kitchen
        <input value={note} maxLength={140} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <footer>
        <button class="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button
          class="primary"
          disabled={variantMissing || short}
          onClick={() => onChoose({ variant, modifiers: chosen, note: note.trim() })}
        >
          {action} · {money(price)}
        </button>
      </footer>
    </Dialog>
  );
}
