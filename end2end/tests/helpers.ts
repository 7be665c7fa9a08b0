import { expect, type APIRequestContext, type Browser, type Page } from "@playwright/test";

/** Collects console errors/warnings and uncaught exceptions of a page. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      problems.push(`${msg.type()}: ${msg.text()}`);
    }
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

/** Waits until the wasm has hydrated the server-rendered page. The dev build's wasm is
 * several MB and unoptimised: on a busy 2-core machine it can take longer than the default
 * 10 s, which says nothing about the page, so this one wait is longer. */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 30_000 });
}

/** `20250420T170000Z` from an ISO-8601 instant with any offset. */
export function googleBasicUtc(iso: string): string {
  return new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

/** The server's clock (`TSUDOI_NOW` may start it on another day than the browser's). */
export async function serverNow(request: APIRequestContext): Promise<Date> {
  const res = await request.get("/api/registrations/panel?event_id=1");
  expect(res.status(), await res.text()).toBe(200);
  return new Date(((await res.json()) as { server_now: string }).server_now);
}

/** `YYYY-MM-DDTHH:MM` in Asia/Tokyo, `days` after `now`, at `time` (`19:00`). */
export function tokyoLocal(now: Date, days: number, time: string): string {
  const tokyo = new Date(now.getTime() + 9 * 3600_000 + days * 86400_000);
  return `${tokyo.toISOString().slice(0, 10)}T${time}`;
}

/**
 * A published event of the test's own, one week after the server's today, with one
 * first-come frame of `capacity` seats open now: tests that register never depend on
 * what the demo data holds on the day they run.
 */
export async function ownEvent(browser: Browser, capacity: number): Promise<{ id: number; limit: number }> {
  const context = await browser.newContext({ locale: "ja-JP" });
  const id = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const json = { accept: "application/json" };
  const signup = await context.request.post("/api/auth/signup", {
    form: await withTicket(context.request, { nickname: `host${id}`, email: `host${id}@example.com`, password: "tsudoi-e2e-pass", display_name: `host${id}` }),
    headers: json,
  });
  expect(signup.status(), await signup.text()).toBe(200);
  const group = await context.request.post("/api/admin/groups/create", {
    form: { slug: `own-${id}`, title: `E2E 主催 ${id}` },
    headers: json,
  });
  expect(group.status(), await group.text()).toBe(200);
  const now = await serverNow(context.request);
  const created = await context.request.post("/api/admin/events/create", {
    form: {
      group_id: String(((await group.json()) as { id: number }).id),
      capacity: String(capacity),
      title: `E2E 勉強会 ${id}`,
      starts_local: tokyoLocal(now, 7, "19:00"),
      ends_local: tokyoLocal(now, 7, "21:00"),
      time_zone: "Asia/Tokyo",
      venue_kind: "online",
      language: "ja",
    },
    headers: json,
  });
  expect(created.status(), await created.text()).toBe(200);
  const eventId = (await created.json()) as number;
  const published = await context.request.post("/api/admin/events/status", {
    form: { id: String(eventId), action: "publish" },
    headers: json,
  });
  expect(published.status(), await published.text()).toBe(200);
  await context.close();
  return { id: eventId, limit: capacity };
}

/** `form` as the sign-up form sends it: with a fresh ticket from the server
 * (`GET /api/auth/form-ticket`; the server under test accepts it at once). */
export async function withTicket(request: APIRequestContext, form: Record<string, string>): Promise<Record<string, string>> {
  const res = await request.get("/api/auth/form-ticket", { headers: { accept: "application/json" } });
  expect(res.status(), await res.text()).toBe(200);
  return { ...form, form_ticket: (await res.json()) as string };
}
