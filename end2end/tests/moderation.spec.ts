import { test, expect } from "@playwright/test";
import { hydrated, ownEvent, watchConsole, withTicket } from "./helpers";

const json = { accept: "application/json" };

test("a report from the event page reaches the moderation queue; hiding takes the event down, restoring brings it back", async ({ browser }) => {
  const { id } = await ownEvent(browser, 5);
  const nick = `rep${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const reporter = await browser.newContext({ locale: "ja-JP" });
  const signup = await reporter.request.post("/api/auth/signup", {
    form: await withTicket(reporter.request, { nickname: nick, email: `${nick}@example.com`, password: "tsudoi-e2e-pass" }),
    headers: json,
  });
  expect(signup.status(), await signup.text()).toBe(200);
  const page = await reporter.newPage();
  const problems = watchConsole(page);
  await page.goto(`/events/${id}`);
  await hydrated(page);
  await page.locator("details.report summary").click();
  await page.locator("details.report textarea").fill(`怪しいリンクがあります ${nick}`);
  await page.locator("details.report button[type=submit]").click();
  await expect(page.locator("details.report [role=status]")).toContainText("ありがとうございます");

  // The demo organizer is the site's administrator.
  const admin = await browser.newContext({ locale: "ja-JP" });
  const login = await admin.request.post("/api/auth/login", { form: { login: "organizer", password: "tsudoi-demo" }, headers: json });
  expect(login.status(), await login.text()).toBe(200);
  const queue = await admin.newPage();
  const adminProblems = watchConsole(queue);
  await queue.goto("/admin/moderation");
  await hydrated(queue);
  const item = queue.locator(".mod-item", { hasText: nick });
  await expect(item).toContainText(`@${nick}`);
  await item.getByRole("button", { name: "非表示にする" }).click();
  await expect(queue.locator("#mod-hidden-h + ul")).toContainText(`/events/${id}`);
  await expect(queue.locator(".mod-log")).toContainText("event.hide");

  const anonymous = await browser.newContext();
  expect((await anonymous.request.get(`/events/${id}`)).status()).toBe(404);
  const row = queue.locator("#mod-hidden-h + ul .mod-item", { hasText: `/events/${id}` });
  await row.getByRole("button", { name: "表示に戻す" }).click();
  await expect(queue.locator(".mod-log")).toContainText("event.restore");
  expect((await anonymous.request.get(`/events/${id}`)).status()).toBe(200);
  expect(problems).toEqual([]);
  expect(adminProblems).toEqual([]);
  await Promise.all([reporter.close(), admin.close(), anonymous.close()]);
});

test("the embeddable widget runs its script under its own policy and counts seats live", async ({ browser }) => {
  const { id } = await ownEvent(browser, 5);
  const ctx = await browser.newContext({ locale: "ja-JP" });
  const event = await ctx.request.get(`/api/events/get?id=${id}`, { headers: json });
  const slug = ((await event.json()) as { card: { group_slug: string } }).card.group_slug;
  const page = await ctx.newPage();
  const problems = watchConsole(page);
  await page.goto(`/embed/groups/${slug}`);
  const seats = page.locator(`[data-event="${id}"] .seats`);
  await expect(seats).toHaveText("0/5");
  // Someone registers elsewhere: the widget follows without reload.
  const nick = `wid${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const other = await browser.newContext();
  const signup = await other.request.post("/api/auth/signup", {
    form: await withTicket(other.request, { nickname: nick, email: `${nick}@example.com`, password: "tsudoi-e2e-pass" }),
    headers: json,
  });
  expect(signup.status()).toBe(200);
  const reg = await other.request.post("/api/registrations/register", { form: { event_id: String(id) }, headers: json });
  expect(reg.status(), await reg.text()).toBe(200);
  await expect(seats).toHaveText("1/5");
  expect(problems, "no CSP violation, no error").toEqual([]);
  await Promise.all([ctx.close(), other.close()]);
});
