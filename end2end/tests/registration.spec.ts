import { test, expect, type Browser, type BrowserContext } from "@playwright/test";
import { hydrated, ownEvent, withTicket } from "./helpers";

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/** A new account signed in within `context` (its pages share the cookie). */
async function signUp(context: BrowserContext, nickname: string) {
  const res = await context.request.post("/api/auth/signup", {
    form: await withTicket(context.request, { nickname, email: `${nickname}@example.com`, password: "tsudoi-e2e-pass", display_name: nickname }),
    headers: { accept: "application/json" },
  });
  expect(res.status(), await res.text()).toBe(200);
}

async function newContext(browser: Browser) {
  return browser.newContext({ locale: "ja-JP" });
}

test("A registers; B's seat counter changes live without reload", async ({ browser }) => {
  const target = await ownEvent(browser, 50);
  const b = await (await newContext(browser)).newPage();
  await b.goto(`/events/${target.id}`);
  await hydrated(b);
  const counter = b.locator(".event__seats .seats__numbers");
  const before = await counter.innerText();
  const accepted = Number(before.split("人")[0]);
  await b.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

  const aContext = await newContext(browser);
  await signUp(aContext, `live${unique()}`);
  const a = await aContext.newPage();
  await a.goto(`/events/${target.id}`);
  await hydrated(a);
  await a.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(a.locator(".register .badge").first()).toHaveText("参加確定");

  await expect(counter).toHaveText(`${accepted + 1}人/${target.limit}人`, { timeout: 5_000 });
  expect(await b.evaluate(() => (window as unknown as { marker?: number }).marker), "no reload").toBe(1);
});

test("journey: sign up → register → receipt → cancel → the waitlisted user is promoted", async ({ browser }) => {
  // Three seats: A and two API users fill them, then B waits.
  const target = { ...(await ownEvent(browser, 3)), free: 3 };

  // A signs up through the form.
  const aContext = await newContext(browser);
  const a = await aContext.newPage();
  const nickA = `journey${unique()}`;
  await a.goto(`/signup?next=/events/${target.id}`);
  await hydrated(a);
  await a.getByLabel("ニックネーム").fill(nickA);
  await a.getByLabel("メールアドレス").fill(`${nickA}@example.com`);
  await a.getByLabel("パスワード").fill("tsudoi-e2e-pass");
  await a.getByRole("button", { name: "新規登録" }).click();
  await expect(a).toHaveURL(new RegExp(`/events/${target.id}$`));
  await expect(a.getByRole("link", { name: nickA })).toBeVisible();

  await a.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(a.locator(".register .badge").first()).toHaveText("参加確定");

  // Receipt with its code and QR code.
  await a.getByRole("link", { name: "受付票" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "受付票" })).toBeVisible();
  const code = (await a.locator(".receipt__code code").innerText()).trim();
  expect(code).toMatch(/^[A-Z2-9]{10}$/);
  await expect(a.locator(".receipt__qr svg")).toBeVisible();

  // Fill the remaining seats with API users, then B joins the waitlist.
  const seatsLeft = target.free - 1;
  for (let i = 0; i < seatsLeft; i++) {
    const ctx = await newContext(browser);
    await signUp(ctx, `filler${unique()}`);
    const r = await ctx.request.post("/api/registrations/register", { form: { event_id: String(target.id) }, headers: { accept: "application/json" } });
    expect((await r.json()).status).toBe("confirmed");
  }
  const bContext = await newContext(browser);
  const nickB = `waiter${unique()}`;
  await signUp(bContext, nickB);
  const b = await bContext.newPage();
  await b.goto(`/events/${target.id}`);
  await hydrated(b);
  await b.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(b.locator(".register .badge").first()).toHaveText("補欠");
  await expect(b.locator(".register .waitlist-position").first()).toHaveText("補欠1番目");

  // A cancels; B is promoted at once and sees it on /me.
  await a.goto(`/events/${target.id}`);
  await hydrated(a);
  await a.getByRole("button", { name: "参加をキャンセルする" }).click();
  await expect(a.getByRole("button", { name: "参加を申し込む" })).toBeVisible();
  await b.goto("/me");
  const row = b.locator(".my-regs__item", { has: b.locator(`a[href="/events/${target.id}"]`) });
  await expect(row.locator(".badge")).toHaveText("参加確定");
});

test("signing up with bad input shows messages beside the fields and keeps what was typed", async ({ page }) => {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("ニックネーム").fill("a b");
  await page.getByLabel("メールアドレス").fill("not-an-email");
  await page.getByLabel("パスワード").fill("short");
  await page.getByRole("button", { name: "新規登録" }).click();
  await expect(page.getByText("半角英数字・_・- のみ使えます")).toBeVisible();
  await expect(page.getByText("メールアドレスの形式が正しくありません")).toBeVisible();
  await expect(page.getByText("8文字以上にしてください")).toBeVisible();
  await expect(page.getByLabel("メールアドレス")).toHaveValue("not-an-email");
});

test("anonymous visitors are asked to log in, and come back to the event", async ({ page }) => {
  await page.goto("/me");
  await expect(page.getByRole("heading", { name: "ログインが必要です" })).toBeVisible();
  const res = await page.request.get("/me");
  expect(res.status()).toBe(401);
});

test("/me: the calendar URL is shown once, and 'log out everywhere' signs out every device", async ({ browser }) => {
  const nickname = `cal${unique()}`;
  const laptopContext = await newContext(browser);
  await signUp(laptopContext, nickname);
  const phoneContext = await newContext(browser);
  const login = await phoneContext.request.post("/api/auth/login", {
    form: { login: nickname, password: "tsudoi-e2e-pass" },
    headers: { accept: "application/json" },
  });
  expect(login.status(), await login.text()).toBe(200);

  const laptop = await laptopContext.newPage();
  await laptop.goto("/me");
  await hydrated(laptop);
  await laptop.getByRole("button", { name: "カレンダーURLを発行" }).click();
  const url = laptop.locator("#my-calendar-url");
  await expect(url).toHaveValue(/\/calendar\/[0-9a-f]{48}\/registrations\.ics$/);
  await expect(laptop.getByText("この画面を離れると再表示できない")).toBeVisible();
  const feed = await laptopContext.request.get(new URL(await url.inputValue()).pathname);
  expect(feed.status()).toBe(200);
  await laptop.reload();
  await hydrated(laptop);
  await expect(laptop.getByText("カレンダーURLは発行済みです")).toBeVisible();
  await expect(laptop.locator("#my-calendar-url")).toHaveCount(0);

  await laptop.getByRole("button", { name: "すべての端末からログアウト" }).click();
  await expect(laptop.getByRole("link", { name: "ログイン" }).first()).toBeVisible();
  const phoneMe = await phoneContext.request.get("/api/auth/me", { headers: { accept: "application/json" } });
  expect(await phoneMe.json()).toBeNull();
});

test("participant list: one registers anonymously and shows up as 'others', then shows their name", async ({ browser }) => {
  const target = await ownEvent(browser, 2);
  // A named participant, by the API.
  const named = await newContext(browser);
  const nickA = `named${unique()}`;
  await signUp(named, nickA);
  const r = await named.request.post("/api/registrations/register", {
    form: { event_id: String(target.id) },
    headers: { accept: "application/json" },
  });
  expect(r.status(), await r.text()).toBe(200);

  // B registers through the form with 匿名で参加 ticked.
  const ctx = await newContext(browser);
  const nickB = `shy${unique()}`;
  await signUp(ctx, nickB);
  const page = await ctx.newPage();
  await page.goto(`/events/${target.id}`);
  await hydrated(page);
  await page.getByLabel("匿名で参加する（参加者一覧に名前を出さない）").check();
  await page.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(page.locator(".register .badge").first()).toHaveText("参加確定");
  await expect(page.getByText("参加者一覧には匿名で表示されています。")).toBeVisible();

  // The list names A, counts B as one other, and links A's profile.
  await page.getByRole("link", { name: "参加者一覧" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "参加者一覧" })).toBeVisible();
  const list = page.locator(".participants");
  await expect(list.getByRole("link", { name: nickA })).toHaveAttribute("href", `/users/${nickA}`);
  await expect(list.getByText("ほか 1 人")).toBeVisible();
  // (The header links B's own profile; the list does not name them.)
  await expect(list.getByRole("link", { name: nickB })).toHaveCount(0);

  // B shows their name after all.
  await page.goto(`/events/${target.id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "名前を表示する" }).click();
  await expect(page.getByText("参加者一覧に名前が表示されています。")).toBeVisible();
  await page.goto(`/events/${target.id}/participants`);
  await expect(list.getByRole("link", { name: nickB })).toBeVisible();
  await expect(list.getByText("ほか 1 人")).toHaveCount(0);
});
