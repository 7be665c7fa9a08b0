import { test, expect } from "@playwright/test";
import { hydrated } from "./helpers";

const total = async (page: import("@playwright/test").Page) =>
  Number((await page.locator(".result-count").innerText()).replace(/\D/g, ""));

test("typing updates results without navigation; the URL follows; reload and Back restore", async ({ page }) => {
  await page.goto("/events");
  await hydrated(page);
  const all = await total(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  // `/` focuses the keyword box.
  await page.locator("body").press("/");
  await expect(page.getByLabel("キーワード")).toBeFocused();
  await page.keyboard.type("ハンズオン");
  await expect(page).toHaveURL(/\/events\?q=%E3%83%8F%E3%83%B3%E3%82%BA%E3%82%AA%E3%83%B3$/);
  const typed = await page.request.get(`/api/events/search?q=${encodeURIComponent("ハンズオン")}`);
  const handsOn = ((await typed.json()) as { results: { total: number } }).results.total;
  expect(handsOn).toBeGreaterThan(0);
  expect(handsOn).toBeLessThan(all);
  await expect.poll(() => total(page)).toBe(handsOn);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), "no page load").toBe(7);

  // A discrete change is pushed onto history.
  await page.locator("label", { hasText: "無料" }).first().click();
  await expect(page).toHaveURL(/pref=free/);
  // Wait for the page to show what the server says for this query (not a stale count).
  const api = await page.request.get(`/api/events/search?q=${encodeURIComponent("ハンズオン")}&pref=free`);
  const freeHandsOn = ((await api.json()) as { results: { total: number } }).results.total;
  expect(freeHandsOn).toBeLessThanOrEqual(handsOn);
  await expect.poll(() => total(page)).toBe(freeHandsOn);

  await page.reload();
  await hydrated(page);
  expect(await total(page)).toBe(freeHandsOn);
  await expect(page.getByLabel("キーワード")).toHaveValue("ハンズオン");

  await page.goBack();
  await expect(page).not.toHaveURL(/pref=free/);
  await expect.poll(() => total(page)).toBe(handsOn);
});

test("tags from the tag list filter, with aliases resolved and C# distinct from C", async ({ page }) => {
  await page.goto("/events?tags=JS");
  await expect(page.locator(".facet__chip--on")).toContainText("JavaScript");
  const cards = page.locator(".card");
  const n = await cards.count();
  for (let i = 0; i < n; i++) {
    await expect(cards.nth(i).locator(".chip", { hasText: "JavaScript" })).toHaveCount(1);
  }
  await page.goto("/events?tags=Nope");
  await expect(page.getByText("次の条件は読み取れなかったため無視しました")).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the panel is a plain GET form that works", async ({ page }) => {
    await page.goto("/events");
    const all = await total(page);
    await page.getByLabel("キーワード").fill("もくもく");
    await page.locator("label", { hasText: "オンライン" }).first().click();
    await page.getByRole("button", { name: "検索" }).click();
    await expect(page).toHaveURL(/q=%E3%82%82%E3%81%8F%E3%82%82%E3%81%8F/);
    await expect(page).toHaveURL(/pref=online/);
    const filtered = await total(page);
    expect(filtered).toBeLessThan(all);
    await expect(page.getByLabel("キーワード")).toHaveValue("もくもく");
  });
});
