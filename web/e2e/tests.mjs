// The end-to-end tests, by name. Each gets a fresh demo node (`node.base`, `node.cli`),
// a page, and `shot(what)` to save a screenshot.

import assert from "node:assert/strict";
import { join } from "node:path";

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

  async "register-resends-a-lost-request-by-itself"({ page, node, shot }) {
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await totalBecomes(page, "€2.90");

    // The node applies the next line, but its answer is lost on the way back. The
    // register sends the same request again by itself: applied once, so two croissants.
    let lost = 0;
    await page.route(
      "**/mpos.v1.Pos/AddItem",
      async (route) => {
        lost += 1;
        await route.fetch();
        await route.abort("connectionreset");
      },
      { times: 1 },
    );
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await totalBecomes(page, "€5.80");
    assert.equal(lost, 1, "the first answer was lost");
    assert.equal(await page.locator(".ticket .line").count(), 2);
    assert.equal(await page.getByRole("alert").count(), 0);

    // The network drops for longer: the tap is kept, said to be kept, and sent as soon
    // as the network is back, without a tap.
    await page.context().setOffline(true);
    await page.getByRole("button", { name: "Pain au chocolat" }).click();
    await page.getByRole("button", { name: "Retry add Pain au chocolat" }).waitFor();
    assert.equal(await total(page), "€5.80", "the register shows only what the node confirmed");
    await shot("offline");
    await page.context().setOffline(false);
    await totalBecomes(page, "€9.00");
    assert.equal(await page.getByRole("alert").count(), 0);
    assert.equal(await page.locator(".ticket .line").count(), 3);
    await shot("back-online");

    // Offline again, and the cashier gives up on the tap: nothing is sent later.
    await page.context().setOffline(true);
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await page.getByRole("button", { name: "Discard" }).click();
    await page.context().setOffline(false);
    await page.waitForTimeout(6000);
    assert.equal(await total(page), "€9.00");
    node.cli("login", "--staff", "ben", "--pin", "2000");
    const order = await page.locator("aside.ticket").getAttribute("data-order");
    const shown = JSON.parse(node.cli("order", "show", order, "--json"));
    assert.equal(shown.lines.filter((l) => !l.voided).length, 3, "the discarded tap never reached the node");
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

  async "register-courses-held-until-fired-on-the-kitchen-display"({ page, node, shot }) {
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("tab", { name: "Tables" }).click();
    await page.getByTestId("table-T6").click();
    await page.getByRole("dialog", { name: "Seat table T6" }).getByRole("button", { name: "2 guests" }).click();
    const courses = page.getByRole("group", { name: "Course for new items" });
    await courses.waitFor();
    assert.equal(await courses.getByRole("button", { name: "Course 1", exact: true }).getAttribute("aria-pressed"), "true");

    // Soup to start, the risotto after it, a crumble last: each line takes the course
    // picked when it was tapped.
    const lines = page.locator(".ticket .line");
    await page.getByRole("button", { name: "Mains" }).click();
    await page.getByRole("button", { name: "Soup of the day" }).click();
    await lines.nth(0).waitFor();
    await courses.getByRole("button", { name: "Course 2", exact: true }).click();
    await page.getByRole("button", { name: "Mushroom risotto" }).click();
    await lines.nth(1).waitFor();
    await courses.getByRole("button", { name: "Course 3", exact: true }).click();
    await page.getByRole("button", { name: "Desserts" }).click();
    await page.getByRole("button", { name: "Apple crumble" }).click();
    await lines.nth(2).waitFor();
    assert.deepEqual(await page.locator(".ticket .course-mark").allTextContents(), ["Course 1", "Course 2", "Course 3"]);
    await shot("courses");

    // Sent together: the soup cooks, the later courses wait for the server.
    await page.getByRole("button", { name: "Send to kitchen (3)" }).click();
    await page.getByRole("button", { name: "Fire course 2" }).waitFor();
    assert.deepEqual(await page.locator(".ticket .course-mark").allTextContents(), [
      "Course 1",
      "Course 2 · hold",
      "Course 3 · hold",
    ]);
    await shot("sent-held");

    const kitchen = await page.context().newPage();
    await kitchen.setViewportSize({ width: 1280, height: 800 });
    await signInOn(kitchen, node.base, "Eli", "5000", kitchen.getByRole("main", { name: "Tickets" }));
    const ticket = kitchen.getByTestId("ticket").filter({ hasText: "Table T6" });
    await ticket.waitFor();
    assert.deepEqual(await ticket.getByTestId("course").allTextContents(), [
      "Course 1",
      "Course 2 · HOLD",
      "Course 3 · HOLD",
    ]);
    await kitchen.screenshot({ path: shot.path("kitchen-held") });

    // The starters are cleared: the server fires the mains, and the display shows it live.
    await page.bringToFront();
    await page.getByRole("button", { name: "Fire course 2" }).click();
    await page.getByRole("button", { name: "Fire course 2" }).waitFor({ state: "detached" });
    assert.equal(await page.getByRole("button", { name: "Fire course 3" }).count(), 1);
    assert.deepEqual(await page.locator(".ticket .course-mark").allTextContents(), [
      "Course 1",
      "Course 2 · fired",
      "Course 3 · hold",
    ]);
    await shot("fired");
    await kitchen.bringToFront();
    await ticket.getByText("Course 2 · FIRE").waitFor();
    assert.deepEqual(await ticket.getByTestId("course").allTextContents(), [
      "Course 1",
      "Course 2 · FIRE",
      "Course 3 · HOLD",
    ]);
    await kitchen.screenshot({ path: shot.path("kitchen-fired") });
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

  async "register-void-discount-receipt-and-refund-with-a-manager"({ page, node, shot }) {
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("button", { name: "Mains" }).click();
    await page.getByRole("button", { name: "Mushroom risotto" }).click();
    await totalBecomes(page, "€16.50");
    await page.getByRole("button", { name: "Beer & wine" }).click();
    await page.getByRole("button", { name: "Lager" }).click();
    await totalBecomes(page, "€21.30");
    await page.getByRole("button", { name: /^Send to kitchen/ }).click();
    await page.locator(".ticket .sent-mark").nth(1).waitFor();

    // The lager went to the bar; the guest changes their mind. A cashier may not void
    // what was sent: a manager approves with their PIN on this register.
    await page.getByRole("button", { name: "Line Lager" }).click();
    await page.getByRole("button", { name: "Void this line" }).click();
    const voiding = page.getByRole("dialog", { name: "Void Lager" });
    assert.equal(await voiding.getByRole("button", { name: "Void", exact: true }).isDisabled(), true, "a void needs a reason");
    await voiding.getByRole("button", { name: "Guest changed their mind" }).click();
    await voiding.getByRole("button", { name: "Void", exact: true }).click();
    const approval = page.getByRole("dialog", { name: "Manager approval" });
    await approval.locator(".staff-card").nth(1).waitFor();
    assert.deepEqual(
      (await approval.locator(".staff-card .name").allTextContents()).sort(),
      ["Ana (owner)", "Ben (manager)"],
      "only those who may approve are offered",
    );
    await shot("approval");
    await approval.getByRole("button", { name: /Ben/ }).click();
    await approval.getByRole("heading", { name: /approve: void Lager/ }).waitFor();
    await page.keyboard.type("9999");
    await page.keyboard.press("Enter");
    await approval.getByRole("alert").waitFor();
    assert.equal(await total(page), "€21.30", "a wrong PIN approves nothing");
    await page.keyboard.type("2000");
    await page.keyboard.press("Enter");
    await totalBecomes(page, "€16.50");
    assert.equal(await page.getByRole("dialog").count(), 0);

    // 10% off the order for a regular guest: a manager's call again.
    await page.getByRole("button", { name: "Discount", exact: true }).click();
    const discount = page.getByRole("dialog", { name: /^Discount order/ });
    await discount.getByRole("button", { name: "10%" }).click();
    await discount.getByRole("button", { name: "Regular guest" }).click();
    assert.equal(await discount.getByTestId("discount-preview").textContent(), "€1.65 off");
    await shot("discount");
    await discount.getByRole("button", { name: "Apply discount" }).click();
    await approval.getByRole("button", { name: /Ben/ }).click();
    await page.keyboard.type("2000");
    await page.keyboard.press("Enter");
    await totalBecomes(page, "€14.85");

    // Paid in cash; the receipt shows its signed code as a QR code, and prints.
    await page.getByRole("button", { name: /^Pay/ }).click();
    await page.getByRole("dialog", { name: "Take payment" }).getByRole("button", { name: "€20.00" }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator(".status.closed").waitFor();
    const number = (await page.locator(".ticket h2").textContent())?.replace("Order ", "").trim() ?? "";
    await page.getByRole("button", { name: "Receipt", exact: true }).click();
    const receipt = page.getByRole("dialog", { name: `Receipt for order ${number}` });
    const qr = receipt.getByRole("img", { name: "Receipt code" });
    await qr.waitFor();
    const code = await qr.getAttribute("data-qr");
    assert.ok(code && code.length > 40, code ?? "");
    const paper = (await receipt.locator(".paper").textContent()) ?? "";
    assert.match(paper, /Mushroom risotto/);
    assert.doesNotMatch(paper, /Lager/, "a voided line is not on the receipt");
    assert.match(paper, /14\.85/);
    await shot("receipt");
    await receipt.getByRole("button", { name: "Print receipt" }).click();
    await receipt.getByText("Sent to front.").waitFor();
    await receipt.getByRole("button", { name: "Close" }).click();

    // Later: the guest complains. The cashier finds the order in the history and a
    // manager approves a refund of 5.00 in cash.
    await page.getByRole("button", { name: /^New order/ }).click();
    await page.getByRole("tab", { name: "History" }).click();
    await page.getByRole("searchbox", { name: "Find an order by number" }).fill(number.slice(0, 4).toLowerCase());
    await page.getByTestId(`order-${number}`).click();
    await shot("history");
    await page.getByRole("button", { name: "Refund", exact: true }).click();
    const refund = page.getByRole("dialog", { name: `Refund order ${number}` });
    await refund.getByRole("button", { name: /Cash/ }).waitFor();
    await refund.getByRole("textbox", { name: /Amount/ }).fill("20");
    await refund.getByText("At most €14.85 of this payment.").waitFor();
    await refund.getByRole("textbox", { name: /Amount/ }).fill("5");
    await refund.getByRole("button", { name: "Complaint" }).click();
    await refund.getByRole("button", { name: "Refund €5.00" }).click();
    await approval.getByRole("button", { name: /Ana/ }).click();
    await page.keyboard.type("1000");
    await page.keyboard.press("Enter");
    await page.getByTestId("refunded").waitFor();
    assert.equal(await page.getByTestId("refunded").textContent(), "−€5.00");
    await page.getByTestId(`order-${number}`).getByText("€5.00 refunded").waitFor();
    await shot("refunded");

    // The ledger says who did what: the void and the discount were Ben's, the refund
    // Ana's; the cashier sold.
    node.cli("login", "--staff", "ben", "--pin", "2000");
    const x = JSON.parse(node.cli("report", "x", "--json"));
    const who = (name) => x.staff.find((s) => s.name.startsWith(name)) ?? {};
    assert.equal(who("Ben").voided, 480);
    assert.equal(who("Ana").refunded, 500);
    assert.equal(who("Chloé").voided ?? 0, 0);
    assert.equal(who("Chloé").refunded ?? 0, 0);
  },

  async "back-office-menu-staff-drawer-charts-and-z"({ page, node, shot }) {
    await signIn(page, node.base, "Ana", "1000");
    await page.getByRole("link", { name: "Back office" }).click();
    // The demo's week of sales, as charts.
    const sales = page.getByRole("region", { name: "Sales" });
    await sales.getByRole("figure", { name: "By day" }).waitFor();
    assert.equal(await sales.locator("figure[aria-label='By day'] .col").count(), 7);
    assert.equal(await sales.locator("figure[aria-label='By hour of the day'] .col").count(), 24);
    assert.ok((await sales.locator("figure[aria-label='Best sellers'] li").count()) >= 5);
    const week = Number(await sales.getByTestId("sales-orders").textContent());
    assert.ok(week > 50, `a week of demo sales: ${week}`);
    await shot("sales");
    await sales.getByRole("tab", { name: "Today" }).click();
    await sales.getByRole("figure", { name: /By hour/ }).waitFor();
    await page.waitForFunction((w) => Number(document.querySelector("[data-testid=sales-orders]")?.textContent) < w, week);

    // A new dish, then the register sells it at its price.
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByTestId("menu-Croissant").waitFor();
    await page.getByRole("button", { name: "New item" }).click();
    const editor = page.getByRole("dialog", { name: "New item" });
    await editor.getByRole("textbox", { name: "Name" }).fill("Menemen");
    await editor.getByRole("textbox", { name: "Description" }).fill("Eggs scrambled with peppers and tomato");
    await editor.getByRole("textbox", { name: "Price (EUR)" }).fill("9,5x");
    assert.equal(await editor.getByRole("button", { name: "Save" }).isDisabled(), true, "not an amount");
    await editor.getByRole("textbox", { name: "Price (EUR)" }).fill("9.50");
    await editor.getByRole("textbox", { name: "Delivery" }).fill("10.90");
    await editor.getByRole("button", { name: "Add size" }).click();
    await editor.getByRole("textbox", { name: "size 1 name" }).fill("Regular");
    await editor.getByRole("button", { name: "Add size" }).click();
    await editor.getByRole("textbox", { name: "size 2 name" }).fill("Large");
    await editor.getByRole("textbox", { name: "size 2 price change" }).fill("2.50");
    await shot("new-item");
    await editor.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("menu-Menemen").waitFor();
    // 86 the croissants from the list.
    await page.getByRole("checkbox", { name: "Croissant available" }).uncheck();
    await page.getByTestId("menu-Croissant").getByText("86'd").waitFor();
    await shot("menu");

    const register = await page.context().newPage();
    await signInOn(register, node.base, "Chloé", "3000", register.getByPlaceholder(/Search name/));
    await register.getByRole("button", { name: "Breakfast" }).click();
    await register.getByRole("button", { name: "Croissant (sold out)" }).waitFor();
    await register.getByRole("button", { name: "Menemen" }).click();
    const options = register.getByRole("dialog", { name: "Options for Menemen" });
    await options.getByRole("button", { name: /Large/ }).click();
    await options.getByRole("button", { name: /^Add/ }).click();
    await register.waitForFunction(() => document.querySelector("[data-testid=total]")?.textContent?.trim() === "€12.00");
    await register.close();

    // Someone new joins as a server and can sign in with their PIN.
    await page.bringToFront();
    await page.getByRole("button", { name: "Staff" }).click();
    await page.getByRole("button", { name: "Add someone" }).click();
    const person = page.getByRole("dialog", { name: "Add someone" });
    await person.getByRole("textbox", { name: "Name" }).fill("Fay (server)");
    await person.getByRole("button", { name: "Server" }).click();
    await person.getByLabel(/PIN/).fill("12");
    assert.equal(await person.getByRole("button", { name: "Save" }).isDisabled(), true, "a PIN has 4 to 8 digits");
    await person.getByLabel(/PIN/).fill("6000");
    await person.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("staff-Fay (server)").waitFor();
    await shot("staff");
    const fay = JSON.parse(node.cli("login", "--staff", "fay", "--pin", "6000", "--json"));
    assert.equal(fay.name, "Fay (server)");
    node.cli("login", "--staff", "ben", "--pin", "2000");
    const { staff } = JSON.parse(node.cli("staff", "list", "--json"));
    assert.equal(staff.find((m) => m.name === "Fay (server)")?.role, "server");

    // The drawer: 20.00 paid in for change, then counted 1.00 short and closed.
    await page.getByRole("button", { name: "Cash drawers" }).click();
    const drawer = page.getByTestId("drawer-front").first();
    await drawer.getByRole("button", { name: "Pay in" }).click();
    const payIn = page.getByRole("dialog", { name: "Pay into front" });
    await payIn.getByRole("textbox", { name: /Amount/ }).fill("20");
    await payIn.getByRole("textbox", { name: "Reason" }).fill("Coins for change");
    await payIn.getByRole("button", { name: "Done" }).click();
    await drawer.getByText("+€20.00").waitFor();
    const expected = (await drawer.locator("td").nth(5).textContent()) ?? "";
    const cents = BigInt(expected.replace(/[^0-9]/g, ""));
    await drawer.getByRole("button", { name: "Count & close" }).click();
    const count = page.getByRole("dialog", { name: "Count front" });
    const short = cents - 100n;
    await count.getByRole("textbox", { name: /Amount/ }).fill(`${short / 100n}.${String(short % 100n).padStart(2, "0")}`);
    await count.getByRole("button", { name: "Done" }).click();
    await drawer.getByText("-€1.00").waitFor();
    await shot("drawer-closed");

    // The day closes with a Z-report, which the X-report's figures become.
    await page.getByRole("button", { name: "Day reports" }).click();
    const xReport = page.getByRole("article", { name: /X-report/ });
    await xReport.waitFor();
    const day = Number(/day (\d+)/.exec((await xReport.getByRole("heading").textContent()) ?? "")?.[1]);
    await page.getByRole("button", { name: "Close the day (Z-report)" }).click();
    await shot("confirm-z");
    await page.getByRole("button", { name: "Close the day", exact: true }).click();
    const zReport = page.getByRole("article", { name: `Z-report, day ${day}` });
    await zReport.waitFor();
    assert.match((await zReport.textContent()) ?? "", /Cash variance-€1\.00/);
    await shot("z-report");
    const z = JSON.parse(node.cli("report", "day", String(day), "--json"));
    assert.equal(z.closed, true);
    assert.equal(z.cash_variance, -100);
  },

  async "back-office-stock-across-locations"({ page, node, shot }) {
    await signIn(page, node.base, "Ana", "1000");
    node.cli("login", "--staff", "ana", "--pin", "1000");
    const level = (location, item) =>
      JSON.parse(node.cli("stock", "show", "--json")).levels.find((l) => l.location_name === location && l.item_name === item);
    await page.getByRole("link", { name: "Back office" }).click();
    await page.getByRole("button", { name: "Stock" }).click();
    const stock = page.getByRole("region", { name: "Stock" });
    const grid = stock.getByRole("table", { name: "Stock at every location" });
    await grid.waitFor();
    // The demo's three locations side by side; the bistro's week of sales left its beans low.
    const heads = await grid.locator("thead th").allTextContents();
    assert.deepEqual(heads.slice(0, 4), ["Item", "Bistro Lumen", "Central kitchen", "Lumen Harbour"]);
    const beansAtBistro = level("Bistro Lumen", "Coffee beans");
    assert.equal(beansAtBistro.low, true);
    const beans = grid.getByTestId("stock-Coffee beans");
    const bistroCell = (await beans.locator("td").nth(1).textContent()) ?? "";
    assert.ok(bistroCell.startsWith(beansAtBistro.quantity), `${bistroCell} shows ${beansAtBistro.quantity}`);
    assert.match(bistroCell, /\+4 kg on the way/);
    assert.equal(await beans.getByText("low").count(), 1);
    await shot("every-location");

    // The beans and flour from the central kitchen arrive: more flour than was sent needs a
    // note, and the node says so without receiving anything.
    const flourBefore = level("Bistro Lumen", "Flour");
    await stock.getByTestId("transfer-Bistro Lumen").getByRole("button", { name: "Arrived…" }).click();
    const arrival = page.getByRole("dialog", { name: "Transfer arrived" });
    await arrival.getByRole("textbox", { name: /Flour/ }).fill("6");
    await arrival.getByRole("button", { name: "Receive" }).click();
    await arrival.getByRole("alert").getByText(/6 kg received but 5 kg sent/).waitFor();
    await shot("arrival-refused");
    assert.equal(level("Bistro Lumen", "Flour").milli, flourBefore.milli, "nothing received");
    await arrival.getByRole("textbox", { name: /Flour/ }).fill("4.8");
    await arrival.getByRole("button", { name: "Receive" }).click();
    await stock.getByRole("status").getByText("Received at Bistro Lumen from Central kitchen.").waitFor();
    assert.equal(await stock.getByTestId("transfer-Bistro Lumen").count(), 0, "nothing on the way any more");
    assert.equal(level("Bistro Lumen", "Flour").milli, flourBefore.milli + 4_800_000);
    assert.equal(level("Bistro Lumen", "Coffee beans").milli, beansAtBistro.milli + 4_000_000);

    // At the bistro alone: lemons delivered, then the eggs counted two short.
    await stock.getByRole("tab", { name: /Bistro Lumen/ }).click();
    const bistro = stock.getByRole("table", { name: "Stock at Bistro Lumen" });
    await bistro.waitFor();
    await shot("bistro");
    const lemons = level("Bistro Lumen", "Lemons");
    await bistro.getByTestId("stock-Lemons").getByRole("button", { name: "Receive" }).click();
    const receive = page.getByRole("dialog", { name: "Receive a delivery" });
    await receive.getByRole("textbox", { name: /Quantity/ }).fill("-2");
    await receive.getByRole("textbox", { name: /Paid/ }).fill("14.00");
    assert.equal(await receive.getByRole("button", { name: "Receive" }).isDisabled(), true, "not a quantity");
    await receive.getByRole("textbox", { name: /Quantity/ }).fill("40");
    await receive.getByRole("combobox", { name: /Supplier/ }).selectOption({ label: "Market Greens" });
    await receive.getByRole("textbox", { name: "Lot" }).fill("L-77");
    await shot("receive");
    await receive.getByRole("button", { name: "Receive" }).click();
    const onHand = `${(lemons.milli + 40_000) / 1000} each`;
    await stock.getByRole("status").getByText(`Received 40 each of Lemons at Bistro Lumen; ${onHand} on hand.`).waitFor();
    const after = level("Bistro Lumen", "Lemons");
    assert.equal(after.milli, lemons.milli + 40_000);
    assert.equal(after.value_minor, lemons.value_minor + 1400);
    await bistro.getByTestId("stock-Lemons").getByText(onHand).waitFor();

    const eggs = level("Bistro Lumen", "Eggs");
    const counted = eggs.milli / 1000 - 2;
    await bistro.getByTestId("stock-Eggs").getByRole("button", { name: "Count" }).click();
    const count = page.getByRole("dialog", { name: "Count stock" });
    await count.getByRole("textbox", { name: /Counted/ }).fill(String(counted));
    await count.getByRole("button", { name: "Save count" }).click();
    await stock.getByRole("status").getByText(`Counted ${counted} each of Eggs at Bistro Lumen: -2 each against the books.`).waitFor();
    assert.equal(level("Bistro Lumen", "Eggs").milli, counted * 1000);

    // Potatoes from the central kitchen to the harbour: not to itself, and then on the way.
    const potatoes = level("Central kitchen", "Potatoes");
    await stock.getByRole("button", { name: "Transfer" }).click();
    const transfer = page.getByRole("dialog", { name: "Transfer stock" });
    await transfer.getByRole("combobox", { name: /^From/ }).selectOption({ label: "Central kitchen" });
    await transfer.getByRole("combobox", { name: /^To/ }).selectOption({ label: "Central kitchen" });
    await transfer.getByRole("combobox", { name: /^Item 1/ }).selectOption({ label: "Potatoes (kg)" });
    await transfer.getByRole("textbox", { name: /Quantity/ }).fill("12");
    await transfer.getByText("A transfer goes from one location to another.").waitFor();
    assert.equal(await transfer.getByRole("button", { name: "Send" }).isDisabled(), true);
    await transfer.getByRole("combobox", { name: /^To/ }).selectOption({ label: "Lumen Harbour" });
    await shot("transfer");
    await transfer.getByRole("button", { name: "Send" }).click();
    await stock.getByTestId("transfer-Lumen Harbour").getByText("12 kg Potatoes").waitFor();
    assert.equal(level("Central kitchen", "Potatoes").milli, potatoes.milli - 12_000_000);
    assert.equal(level("Lumen Harbour", "Potatoes")?.in_transit ?? "", "12 kg");
    await stock.getByRole("tab", { name: /All locations/ }).click();
    await grid.getByTestId("stock-Potatoes").getByText("+12 kg on the way").waitFor();
    await shot("on-the-way");
  },

  async "back-office-food-cost-per-item"({ page, node, shot }) {
    await signIn(page, node.base, "Ana", "1000");
    node.cli("login", "--staff", "ana", "--pin", "1000");
    // The demo's week of sales: 90 days in the app and 100 in the CLI take all of it.
    const want = JSON.parse(node.cli("stock", "food-cost", "--days", "100", "--json"));
    const eur = (minor) => `€${(minor / 100).toLocaleString("en", { minimumFractionDigits: 2 })}`;
    const pct = (ppm) => `${Math.floor(Math.round(ppm / 1000) / 10)}.${Math.round(ppm / 1000) % 10}%`;
    await page.getByRole("link", { name: "Back office" }).click();
    await page.getByRole("button", { name: "Food cost" }).click();
    const section = page.getByRole("region", { name: "Food cost" });
    await section.getByRole("tab", { name: "90 days" }).click();
    await section.getByTestId("food-net-sales").getByText(eur(want.net_sales_minor)).waitFor();
    assert.ok(want.items.length > 10, `the demo sells many items with recipes: ${want.items.length}`);
    assert.equal(await section.getByTestId("food-cost").textContent(), eur(want.cost_minor));
    assert.equal(await section.getByTestId("food-cost-share").textContent(), pct(want.food_cost_ppm));
    // Every item sold, with the node's figures.
    const sold = section.getByRole("table", { name: "Food cost of items sold" });
    assert.equal(await sold.locator("tbody tr").count(), want.items.length);
    for (const item of want.items.slice(0, 5)) {
      const cells = await sold.getByTestId(`sold-${item.name}`).locator("td").allTextContents();
      assert.deepEqual(cells, [item.name, String(item.sold), eur(item.net_sales_minor), eur(item.cost_minor), pct(item.food_cost_ppm)]);
    }
    // Every recipe at the bistro's costs; a modifier shows its price delta instead.
    const recipes = section.getByRole("table", { name: "Recipes" });
    assert.equal(await recipes.locator("tbody tr").count(), want.recipes.length);
    const plate = want.recipes.find((r) => r.net_price_minor > 0);
    const cells = await recipes.getByTestId(`recipe-${plate.name}`).first().locator("td").allTextContents();
    assert.deepEqual([cells[0], cells[2], cells[3], cells[4]], [plate.name, eur(plate.cost_minor), eur(plate.net_price_minor), pct(plate.food_cost_ppm)]);
    assert.match(cells[1], new RegExp(plate.ingredients[0].item_name));
    await shot("food-cost");
    // Today: only what was sold today, which may be nothing yet.
    await section.getByRole("tab", { name: "Today" }).click();
    await section.getByRole("tab", { name: "Today", selected: true }).waitFor();
    await shot("today");
  },

  async "back-office-registers-pair-and-revoke"({ page, node, shot }) {
    await signIn(page, node.base, "Ana", "1000");
    await page.getByRole("link", { name: "Back office" }).click();
    await page.getByRole("button", { name: "Registers" }).click();
    const section = page.getByRole("region", { name: "Registers" });
    await section.getByText("this one").waitFor();
    await shot("registers");
    // A code for a new register, and the command its terminal runs.
    await section.getByRole("button", { name: "Pair a register" }).click();
    const dialog = page.getByRole("dialog", { name: "Pair a register" });
    await dialog.getByLabel("What to call it").fill("Bar till");
    await dialog.getByRole("button", { name: "Make a code" }).click();
    const code = (await dialog.getByTestId("pairing-code").textContent()).trim();
    assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    assert.match(await dialog.locator("pre.command").textContent(), new RegExp(`--peer ${node.syncAddress} --code ${code}`));
    await shot("code");
    // The new register joins with it, as a person at that terminal would.
    const joined = node.mpos("pair", "join", "--data", join(node.data, "bar-till"), "--peer", node.syncAddress, "--code", code);
    assert.match(joined, /as "Bar till"/);
    await dialog.getByRole("button", { name: "Close" }).click();
    const row = section.getByTestId("node-Bar till");
    await row.waitFor();
    // Lost: the owner revokes it, with a reason.
    await row.getByRole("button", { name: "Revoke" }).click();
    const revoke = page.getByRole("dialog", { name: "Revoke Bar till" });
    await revoke.getByLabel("Why").fill("left on the bus");
    await revoke.getByRole("button", { name: "Revoke" }).click();
    await row.getByText(/revoked .*left on the bus/).waitFor();
    assert.equal(await row.getByRole("button", { name: "Revoke" }).count(), 0);
    await shot("revoked");
    // The node says the same to the command line.
    node.cli("login", "--staff", "ana", "--pin", "1000");
    const list = JSON.parse(node.cli("node", "list", "--json"));
    assert.equal(list.holds_root_key, true);
    assert.deepEqual(
      list.nodes.map((n) => [n.name, n.revoked]).sort(),
      [["Bar till", true], [list.nodes.find((n) => n.this_node).name, false]].sort(),
    );
    // The stock screen says when each location was last heard from.
    await page.getByRole("button", { name: "Stock" }).click();
    await page.getByTestId("heard-Bistro Lumen").waitFor();
    assert.match(await page.getByTestId("heard-Bistro Lumen").textContent(), /heard from (just now|\d+ min ago)/);
    await shot("stock");
  },

  async "register-at-phone-width"({ page, node, shot }) {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, node.base, "Chloé", "3000");
    await page.getByRole("button", { name: "Breakfast" }).click();
    await page.getByRole("button", { name: "Croissant", exact: true }).click();
    await totalBecomes(page, "€2.90");
    await shot("ticket");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `nothing sticks out sideways (${overflow} px)`);
    // Touch targets: every button on the screen is at least 40 px tall.
    const small = await page.$$eval("button:not([hidden])", (bs) =>
      bs.filter((b) => b.offsetParent !== null && b.getBoundingClientRect().height < 40).map((b) => b.textContent),
    );
    assert.deepEqual(small, []);
    await page.getByRole("button", { name: /^Pay/ }).click();
    await page.getByRole("dialog", { name: "Take payment" }).getByRole("button", { name: "€5.00" }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator(".status.closed").waitFor();
    await shot("paid");
    await page.getByRole("tab", { name: "Tables" }).click();
    await page.getByTestId("table-T1").waitFor();
    await shot("floor");
  },

  async "app-installs-and-opens-without-the-node"({ page, node, shot }) {
    await page.goto(node.base);
    await page.getByRole("heading", { name: "Who is working?" }).waitFor();
    const manifest = await (await fetch(`${node.base}/manifest.webmanifest`)).json();
    assert.equal(manifest.display, "standalone");
    for (const icon of manifest.icons) {
      const r = await fetch(`${node.base}${icon.src}`);
      assert.equal(r.status, 200, icon.src);
    }
    assert.ok(manifest.icons.some((i) => i.sizes === "512x512" && i.purpose === "maskable"));
    // The service worker takes the app's files.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await page.waitForFunction(async () => {
      const cache = await caches.open("mpos-app-v1");
      const urls = (await cache.keys()).map((r) => new URL(r.url).pathname);
      return urls.includes("/") && urls.some((u) => u.endsWith(".js")) && urls.some((u) => u.endsWith(".css"));
    });

    // The node goes away: the app still opens (from the device) and says what is wrong.
    await node.halt();
    await page.goto(`${node.base}/kitchen`);
    await page.getByRole("heading", { name: "Who is working?" }).waitFor();
    await page.getByRole("alert").waitFor();
    assert.match((await page.getByRole("alert").textContent()) ?? "", /cannot be reached/);
    await shot("offline");
    await node.resume();
    await page.reload();
    await page.getByRole("button", { name: /Chloé/ }).waitFor();
    await shot("back");
  },
};

/** What a test's node needs beyond the demo. */
export const nodeOptions = {
  "back-office-registers-pair-and-revoke": { sync: true },
};
