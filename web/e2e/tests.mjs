// The end-to-end tests, by name. Each gets a fresh demo node (`node.base`, `node.cli`),
// a page, and `shot(what)` to save a screenshot.

import assert from "node:assert/strict";

/** Signs in at the register as `who` with `pin`, by touch on the PIN pad. */
async function signIn(page, base, who, pin) {
  // Chromium throttles a tab in the background: the one a person uses is in front.
  await page.bringToFront();
  await page.goto(base);
  await page.getByRole("button", { name: new RegExp(who) }).click();
  for (const digit of pin) await page.getByRole("button", { name: digit, exact: true }).click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByPlaceholder(/Search name/).waitFor();
}

/** Signs in on another page of the same browser (its own tab, its own session). */
async function signInOn(page, base, who, pin, ready) {
  await page.bringToFront();
  await page.goto(base);
  await page.getByRole("button", { name: new RegExp(who) }).click();
  for (const digit of pin) await page.getByRole("button", { name: digit, exact: true }).click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await ready.waitFor();
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

  async "register-two-seats-split-by-seat-cash-and-card"({ page, node, shot }) {
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("tab", { name: "Tables" }).click();
    await page.getByTestId("table-T5").waitFor();
    await shot("floor");
    await page.getByTestId("table-T5").click();
    await page.getByRole("dialog", { name: "Seat table T5" }).getByRole("button", { name: "2 guests" }).click();
    await page.getByRole("group", { name: "Seat for new items" }).waitFor();

    // Seat 1: the risotto; seat 2: fish & chips; a lager to share.
    await page.getByRole("button", { name: "Mains" }).click();
    await page.getByRole("button", { name: "Mushroom risotto" }).click();
    await totalBecomes(page, "€16.50");
    await page.getByRole("button", { name: "Seat 2" }).click();
    await page.getByRole("button", { name: "Fish & chips" }).click();
    await totalBecomes(page, "€33.40");
    await page.getByRole("button", { name: "Shared" }).click();
    await page.getByRole("button", { name: "Beer & wine" }).click();
    await page.getByRole("button", { name: "Lager" }).click();
    await totalBecomes(page, "€38.20");
    assert.deepEqual(
      await page.locator(".ticket .seat-label").allTextContents(),
      ["Seat 1", "Seat 2", "Shared"],
    );
    await shot("seats");

    // To the kitchen: every line marked sent, the order preparing.
    await page.getByRole("button", { name: "Send to kitchen (3)" }).click();
    await page.getByTestId("kitchen-status").waitFor();
    assert.equal(await page.getByTestId("kitchen-status").textContent(), "Preparing");
    assert.equal(await page.locator(".ticket .line.sent").count(), 3);

    // Split by seat: each seat's dish and half the lager (4.80 / 2).
    await page.getByRole("button", { name: "Split the bill" }).click();
    const split = page.getByRole("dialog", { name: "Split the bill" });
    await split.getByRole("button", { name: "Pay seat 1" }).waitFor();
    assert.deepEqual(await split.locator(".parts .amount").allTextContents(), ["€18.90", "€19.30"]);
    await shot("split");

    // Seat 1 pays cash with a 20 note: 1.10 change.
    await split.getByRole("button", { name: "Pay seat 1" }).click();
    const pay = page.getByRole("dialog", { name: "Take payment" });
    await pay.getByRole("heading", { name: "Pay seat 1: €18.90" }).waitFor();
    await pay.getByRole("button", { name: "€20.00" }).click();
    await page.getByTestId("change").waitFor();
    assert.match((await page.getByTestId("change").textContent()) ?? "", /€1\.10/);
    await shot("seat-1-cash");
    await page.getByRole("button", { name: "Back to the order" }).click();
    // Back at the split: seat 1 marked paid, seat 2's share still due.
    await split.getByText("Paid ✓").waitFor();
    assert.equal((await page.locator("dd.due").textContent())?.trim(), "€19.30");

    // Seat 2 by card; the order closes.
    await split.getByRole("button", { name: "Pay seat 2" }).click();
    await pay.getByRole("tab", { name: "Card" }).click();
    await pay.getByPlaceholder(/card terminal/).fill("AUTH 724411");
    await shot("seat-2-card");
    await pay.getByRole("button", { name: "Card approved" }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator(".status.closed").waitFor();
    await shot("closed");

    // The node agrees: paid in full, 18.90 cash and 19.30 card.
    node.cli("login", "--staff", "ben", "--pin", "2000");
    const id = await page.locator(".ticket").getAttribute("data-order");
    const order = JSON.parse(node.cli("order", "show", id, "--json"));
    assert.deepEqual(
      order.payments.map((p) => [p.tender, p.amount_minor]),
      [["cash", 1890], ["card", 1930]],
    );
  },

  async "self-order-to-kitchen-and-back-ready"({ page, node, shot }) {
    node.cli("login", "--staff", "ben", "--pin", "2000");
    node.cli("menu", "86", "Cheesecake");
    const link = node.cli("table", "link", "T4").trim();
    assert.match(link, /\/t\/[0-9a-f]{24}$/);

    // A guest at T4 opens the table's link on a phone.
    const phone = await page.context().newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(link);
    await phone.getByText("Table T4").waitFor();
    await phone.getByRole("button", { name: "Desserts" }).click();
    const cheesecake = phone.getByRole("button", { name: "Cheesecake (sold out)" });
    await cheesecake.waitFor();
    assert.equal(await cheesecake.isDisabled(), true);
    await phone.screenshot({ path: shot.path("guest-menu") });

    await phone.getByRole("button", { name: "Apple crumble" }).click();
    await phone.getByRole("button", { name: "Mains" }).click();
    await phone.getByRole("button", { name: "Mushroom risotto" }).click();
    await phone.getByRole("button", { name: "Mushroom risotto" }).click();
    await phone.getByRole("button", { name: /Your order · 3 items/ }).click();
    const cart = phone.getByRole("dialog", { name: "Your order" });
    await cart.getByRole("button", { name: "Send to the kitchen · €39.90" }).waitFor();
    await phone.screenshot({ path: shot.path("guest-cart") });
    await cart.getByRole("button", { name: /Send to the kitchen/ }).click();
    await cart.getByText("The kitchen is preparing it").first().waitFor();
    await phone.screenshot({ path: shot.path("guest-sent") });

    // The kitchen display has it, live, marked as a self-order at T4.
    const kitchen = await page.context().newPage();
    await kitchen.setViewportSize({ width: 1280, height: 800 });
    await signInOn(kitchen, node.base, "Eli", "5000", kitchen.getByRole("main", { name: "Tickets" }));
    const ticket = kitchen.getByTestId("ticket").filter({ hasText: "Self-order" });
    await ticket.waitFor();
    assert.match((await ticket.textContent()) ?? "", /Table T4/);
    assert.match((await ticket.textContent()) ?? "", /2Mushroom risotto/);
    await kitchen.screenshot({ path: shot.path("kitchen") });

    // The register's floor shows T4 preparing.
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("tab", { name: "Tables" }).click();
    const t4 = page.getByTestId("table-T4");
    await t4.getByText("Preparing").waitFor();
    await shot("floor-preparing");

    // Bump: off the display, ready on the register and at the table, nobody reloading.
    await kitchen.bringToFront();
    await ticket.getByRole("button", { name: "Bump" }).click();
    await ticket.waitFor({ state: "detached" });
    await kitchen.getByRole("button", { name: /Recall/ }).first().waitFor();
    await kitchen.screenshot({ path: shot.path("kitchen-bumped") });
    await page.bringToFront();
    await t4.getByText("Ready").waitFor();
    await shot("floor-ready");
    await phone.bringToFront();
    await phone.getByText("Ready: on its way to your table").first().waitFor();
    await phone.screenshot({ path: shot.path("guest-ready") });

    // The server opens T4's order: the self-order, ready, to be paid.
    await page.bringToFront();
    await t4.click();
    assert.equal(await page.getByTestId("kitchen-status").textContent(), "Ready");
    await totalBecomes(page, "€39.90");
    await shot("register-ready");
  },

  async "register-and-kitchen-reconnect-after-a-node-restart"({ page, node, shot }) {
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await totalBecomes(page, "€2.90");

    // The node restarts (an update, a power cut) while the register is in use.
    await node.restart(1500);
    // The register was not signed out; its live view came back by itself, and the order
    // on the ticket is the node's, so the next tap adds to it.
    await page.getByRole("button", { name: "Pain au chocolat" }).click();
    await totalBecomes(page, "€6.10");
    assert.equal(await page.getByRole("alert").count(), 0);
    await page.getByRole("tab", { name: "Tables" }).click();
    await page.getByTestId("table-T1").waitFor();
    // The live view is back (it retries with a growing pause, up to 5 s).
    await page.waitForFunction(() => !document.querySelector(".who")?.textContent?.includes("reconnecting"));
    await shot("after-restart");
  },
};
