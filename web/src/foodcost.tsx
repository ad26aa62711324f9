// The back office's food cost: what each menu item's recipe costs at today's average
// costs against its price, and what the items sold over a stretch cost against what
// they sold for. Both come from one GetFoodCost call.

import { useEffect, useState } from "preact/hooks";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FoodCostView } from "../gen/mpos/v1/pos_pb";
import { pos } from "./api";
import { hex } from "./ids";
import type { OfficeProps } from "./office";
import { percentRounded } from "./percent";
import { midnight, PeriodTabs } from "./period";

/** Above this share of the price a plate is flagged: most restaurants aim under 35%. */
export const HIGH_FOOD_COST_PPM = 350_000;

export function FoodCost({ money, fail }: OfficeProps) {
  const [days, setDays] = useState(7);
  const [view, setView] = useState<FoodCostView | null>(null);
  // The node's reason when there is nothing to cost yet (no sales location).
  const [unset, setUnset] = useState("");
  useEffect(() => {
    let stale = false;
    pos
      .getFoodCost({ from: BigInt(midnight(days - 1)), to: 0n })
      .then((v) => !stale && setView(v))
      .catch((e: unknown) => {
        if (stale) return;
        const c = e instanceof ConnectError ? e : null;
        if (c?.code === Code.FailedPrecondition) setUnset(c.rawMessage);
        else fail(e);
      });
    return () => {
      stale = true;
    };
  }, [days]);
  const share = (ppm: number) => (
    <span class={ppm > HIGH_FOOD_COST_PPM ? "badge low" : "muted"}>{percentRounded(ppm)}</span>
  );
  return (
    <section class="office-section food-cost" aria-label="Food cost">
      <header class="section-head">
        <h1>Food cost</h1>
        <PeriodTabs days={days} onChange={setDays} />
      </header>
      {unset && <p class="muted">{unset}</p>}
      {view && (
        <>
          <div class="cards">
            <div class="card">
              <small>Net sales</small>
              <strong data-testid="food-net-sales">{money(view.netSales)}</strong>
            </div>
            <div class="card">
              <small>Recipe cost</small>
              <strong data-testid="food-cost">{money(view.cost)}</strong>
            </div>
            <div class="card">
              <small>Food cost</small>
              <strong data-testid="food-cost-share">{percentRounded(view.foodCostPpm)}</strong>
            </div>
          </div>
          <h2>Sold</h2>
          {view.items.length === 0 ? (
            <p class="muted">No item with a recipe was sold in this period.</p>
          ) : (
            <table class="report-table" aria-label="Food cost of items sold">
              <thead>
                <tr>
                  <th>Item</th>
                  <th class="num">Sold</th>
                  <th class="num">Net sales</th>
                  <th class="num">Recipe cost</th>
                  <th class="num">Food cost</th>
                </tr>
              </thead>
              <tbody>
                {view.items.map((i) => (
                  <tr key={hex(i.item) + hex(i.variant)} data-testid={`sold-${i.name}`}>
                    <td>
                      <strong>{i.name}</strong>
                    </td>
                    <td class="num">{i.sold.toString()}</td>
                    <td class="num">{money(i.netSales)}</td>
                    <td class="num">{money(i.cost)}</td>
                    <td class="num">{share(i.foodCostPpm)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Recipes at {view.locationName}'s costs today</h2>
          <table class="report-table" aria-label="Recipes">
            <thead>
              <tr>
                <th>Recipe</th>
                <th>Ingredients</th>
                <th class="num">Portion</th>
                <th class="num">Price before tax</th>
                <th class="num">Food cost</th>
              </tr>
            </thead>
            <tbody>
              {view.recipes.map((r, n) => (
                <tr key={n} data-testid={`recipe-${r.name}`}>
                  <td>
                    <strong>{r.name}</strong>
                  </td>
                  <td class="muted">{r.ingredients.map((i) => `${i.quantity} ${i.itemName}`).join(", ")}</td>
                  <td class="num">{money(r.cost)}</td>
                  {/* A modifier is taxed with the item it is added to: its price is a delta. */}
                  <td class="num">{r.netPrice > 0n ? money(r.netPrice) : <span class="muted">+{money(r.price)} with tax</span>}</td>
                  <td class="num">{r.netPrice > 0n ? share(r.foodCostPpm) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
