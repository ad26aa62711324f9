// The end-to-end tests, by name. Each gets a fresh demo node (`node.base`, `node.cli`),
// a page, and `shot(what)` to save a screenshot.

import assert from "node:assert/strict";

/** Signs in at the register as `who` with `pin`, by touch on the PIN pad. */
async function signIn(page, base, who, pin) {
  await page.goto(base);
  await page.getByRole("button", { name: new RegExp(who) }).click();
  for (const digit of pin) await page.getByRole("button", { name: digit, exact: true }).click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByPlaceholder(/Search name/).waitFor();
}

async function total(page) {
  return (await page.getByTestId("total").textContent())?.trim();
}

/** Waits until the ticket's total reads `text` (the node's answer has been shown). */
function totalBecomes(page, text) {
  return page.waitForFunction(
    (t) => document.querySelector("[data-testid=total]")?.textContent?.trim() === t,
    text,
  );
}

export const tests = {
  async "register-counter-sale"({ page, node, shot }) {
    await page.goto(node.base);
    await page.getByRole("heading", { name: "Who is working?" }).waitFor();
    await shot("login");
    // A wrong PIN is refused, and says so.
    await page.getByRole("button", { name: /Chloé/ }).click();
    await page.keyboard.type("9999");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").waitFor();
    await shot("wrong-pin");
    await page.keyboard.type("3000");
    await page.keyboard.press("Enter");
    await page.getByPlaceholder(/Search name/).waitFor();
    await shot("register");

    // A flat white needs a size and a milk: Add stays off until both are chosen.
    await page.getByPlaceholder(/Search name/).fill("flat");
    await page.getByRole("button", { name: "Flat white" }).click();
    const dialog = page.getByRole("dialog", { name: "Options for Flat white" });
    const addButton = dialog.getByRole("button", { name: /^Add/ });
    assert.equal(await addButton.isDisabled(), true);
    await dialog.getByRole("button", { name: /Large/ }).click();
    await dialog.getByRole("button", { name: /Whole milk/ }).click();
    // One milk at most: oat replaces whole.
    await dialog.getByRole("button", { name: /Oat milk/ }).click();
    assert.equal(await dialog.getByRole("button", { name: /Whole milk/ }).getAttribute("aria-pressed"), "false");
    await shot("modifiers");
    assert.equal((await addButton.textContent())?.trim(), "Add · €4.90");
    await addButton.click();
    await page.getByText("+ Oat milk").waitFor();
    assert.equal(await total(page), "€4.90");

    // A croissant from the Breakfast tab: no options, straight onto the ticket.
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByRole("button", { name: "Croissant" }).click();
    await totalBecomes(page, "€7.80");
    await shot("ticket");

    // Cash: a 10 euro note, change due 2.20; the order closes.
    await page.getByRole("button", { name: /^Pay/ }).click();
    await page.getByRole("dialog", { name: "Take payment" }).getByRole("button", { name: "€10.00" }).click();
    await page.getByTestId("change").waitFor();
    assert.match((await page.getByTestId("change").textContent()) ?? "", /€2\.20/);
    await shot("change-due");
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator(".status.closed").waitFor();
    await shot("closed");

    // The node has it: the CLI sees the same order, closed and paid.
    node.cli("login", "--staff", "ben", "--pin", "2000");
    const number = (await page.locator(".ticket h2").textContent())?.replace("Order ", "").trim();
    assert.ok(number?.startsWith("C-"), number);
  },

  async "register-86d-item-cannot-be-ordered"({ page, node, shot }) {
    node.cli("login", "--staff", "ben", "--pin", "2000");
    node.cli("menu", "86", "Croissant");
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("button", { name: "Breakfast" }).click();
    const croissant = page.getByRole("button", { name: "Croissant (sold out)" });
    await croissant.waitFor();
    assert.equal(await croissant.isDisabled(), true);
    await shot("sold-out");
    // Back on the menu: it can be sold again.
    node.cli("menu", "un86", "Croissant");
    await page.getByRole("button", { name: "Mains" }).click();
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await totalBecomes(page, "€2.90");
    await shot("back-on");
  },

  async "register-retries-a-lost-request-once"({ page, node, shot }) {
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await totalBecomes(page, "€2.90");

    // The node applies the next line, but its answer is lost on the way back.
    await page.route(
      "**/mpos.v1.Pos/AddItem",
      async (route) => {
        await route.fetch();
        await route.abort("connectionreset");
      },
      { times: 1 },
    );
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    const retry = page.getByRole("button", { name: "Retry add Croissant" });
    await retry.waitFor();
    assert.equal(await total(page), "€2.90", "the register shows only what the node confirmed");
    await shot("answer-lost");
    // Sent again with the same ids: applied once, so two croissants, not three.
    await retry.click();
    await totalBecomes(page, "€5.80");
    assert.equal(await page.locator(".ticket .line").count(), 2);

    // The network drops: the tap is kept and sent when it is back.
    await page.context().setOffline(true);
    await page.getByRole("button", { name: "Pain au chocolat" }).click();
    await page.getByRole("button", { name: "Retry add Pain au chocolat" }).waitFor();
    await shot("offline");
    await page.context().setOffline(false);
    await page.getByRole("button", { name: "Retry add Pain au chocolat" }).click();
    await totalBecomes(page, "€9.00");
    assert.equal(await page.getByRole("alert").count(), 0);
    await shot("back-online");
  },
};
