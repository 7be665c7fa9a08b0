import { test, expect, type Browser, type BrowserContext } from "@playwright/test";
import { readFileSync } from "node:fs";
import { hydrated, serverNow, tokyoLocal, watchConsole, withTicket } from "./helpers";

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

async function signedIn(browser: Browser, nickname: string): Promise<BrowserContext> {
  const context = await browser.newContext({ locale: "ja-JP", acceptDownloads: true });
  const res = await context.request.post("/api/auth/signup", {
    form: await withTicket(context.request, { nickname, email: `${nickname}@example.com`, password: "tsudoi-e2e-pass", display_name: nickname }),
    headers: { accept: "application/json" },
  });
  expect(res.status(), await res.text()).toBe(200);
  return context;
}

/** A group `slug` of the signed-in organizer and a draft event `title` in it, `days` after the
 * server's today at 19:00–21:00 JST, online unless `fields` say otherwise; returns its id. */
async function draftEvent(
  org: BrowserContext,
  slug: string,
  title: string,
  days: number,
  fields: Record<string, string>,
): Promise<number> {
  const json = { accept: "application/json" };
  const made = await org.request.post("/api/admin/groups/create", { form: { slug, title: `${title} の主催` }, headers: json });
  expect(made.status(), await made.text()).toBe(200);
  const now = await serverNow(org.request);
  const created = await org.request.post("/api/admin/events/create", {
    form: {
      group_id: String((await made.json()).id),
      title,
      starts_local: tokyoLocal(now, days, "19:00"),
      ends_local: tokyoLocal(now, days, "21:00"),
      time_zone: "Asia/Tokyo",
      venue_kind: "online",
      language: "ja",
      ...fields,
    },
    headers: json,
  });
  expect(created.status(), await created.text()).toBe(200);
  return (await created.json()) as number;
}

test("an organizer creates a group and an event, checks an attendee in, exports CSV and changes capacity", async ({
  browser,
}) => {
  const id = unique();
  const org = await signedIn(browser, `org${id}`);
  const page = await org.newPage();
  const problems = watchConsole(page);

  // A group, from /admin.
  await page.goto("/admin");
  await hydrated(page);
  await page.locator("details.admin-new-group summary").click();
  await page.locator("#group-title").fill(`E2E 勉強会 ${id}`);
  await page.locator("#group-slug").fill(`e2e-${id}`);
  await page.locator("details.admin-new-group button[type=submit]").click();
  const newEvent = page.locator(".admin-groups a", { hasText: "イベントを作成" });
  await expect(newEvent).toBeVisible();

  // An event with one seat, saved as a draft, then published.
  await newEvent.click();
  await expect(page).toHaveURL(/\/admin\/events\/new\?group=\d+/);
  await hydrated(page);
  const title = `E2E もくもく会 ${id}`;
  await page.locator("#f-title").fill(title);
  // A week after the server's today (its clock may run on another day than the browser's).
  const now = await serverNow(org.request);
  await page.locator("#f-start").fill(tokyoLocal(now, 7, "19:00"));
  await page.locator("#f-end").fill(tokyoLocal(now, 7, "21:00"));
  await page.locator("#f-description").fill("**太字** の説明");
  await expect(page.locator(".editor__preview strong")).toHaveText("太字");
  await page.locator("#f-capacity").fill("1");
  await page.getByRole("button", { name: "下書きを保存" }).click();
  await expect(page).toHaveURL(/\/admin\/events\/\d+$/);
  const eventId = Number(page.url().split("/").pop());
  await hydrated(page);
  // A second frame and a question.
  await page.locator("details.frame-add summary").click();
  await page.locator("#new-frame-name").fill("LT枠");
  await page.locator("#new-frame-capacity").fill("5");
  await page.locator("details.frame-add button[type=submit]").click();
  await expect(page.locator("details.frame-rules")).toHaveCount(2);
  await page.locator("section[aria-labelledby=questions-h] details summary").click();
  await page.locator("#q-label").fill("懇親会に参加しますか");
  await page.locator("section[aria-labelledby=questions-h] button[type=submit]", { hasText: "質問を追加" }).click();
  await expect(page.locator(".questions-list li")).toHaveCount(1);
  await page.getByRole("button", { name: "公開する" }).click();
  await expect(page.locator(".admin-status .chip")).toHaveText("公開中");
  const detail = await (await org.request.get(`/api/events/get?id=${eventId}`)).json();
  const [general, lt] = detail.frames.map((f: { id: number }) => String(f.id));
  const question = String(detail.questions[0].id);
  expect(lt).toBeTruthy();

  // It is found by search.
  const search = await org.newPage();
  await search.goto(`/events?q=${encodeURIComponent(`もくもく会 ${id}`)}`);
  await expect(search.locator(".card__title", { hasText: title })).toBeVisible();

  // Two attendees: the first takes the seat, the second is waitlisted.
  const nickA = `a${id}`;
  const nickB = `b${id}`;
  const a = await signedIn(browser, nickA);
  const b = await signedIn(browser, nickB);
  for (const [ctx, status] of [
    [a, "confirmed"],
    [b, "waitlisted"],
  ] as const) {
    const res = await ctx.request.post("/api/registrations/register", {
      form: { event_id: String(eventId), frame_id: general, [`answers[${question}][]`]: `${status} です` },
      headers: { accept: "application/json" },
    });
    expect(res.status(), await res.text()).toBe(200);
    expect((await res.json()).status).toBe(status);
  }

  // The organizer sees them and checks A in by receipt code.
  await page.goto(`/admin/events/${eventId}/attendees`);
  await hydrated(page);
  await expect(page.locator("tbody tr")).toHaveCount(2);
  const rowA = page.locator("tbody tr", { hasText: `@${nickA}` });
  const code = await rowA.locator("input[name=code]").inputValue();
  await page.locator("#checkin-code").fill(code.toLowerCase());
  await page.locator(".checkin button").click();
  await expect(page.locator(".admin-counts")).toContainText("受付済み 1 / 参加確定 1");
  await expect(rowA).toContainText("✓");

  // CSV for Excel: a BOM, a header, one row per registrant.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "CSV（Excel用）" }).click(),
  ]);
  const bytes = readFileSync((await download.path()) as string);
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const rows = bytes.subarray(3).toString("utf8").split("\r\n").filter((r) => r.length > 0);
  expect(rows[0].split(",").slice(0, 4)).toEqual(["nickname", "display_name", "frame", "status"]);
  const byNick = new Map(rows.slice(1).map((r) => [r.split(",")[0], r.split(",")]));
  expect(byNick.get(nickA)?.[3]).toBe("confirmed");
  expect(byNick.get(nickA)?.[7]).not.toBe("");
  expect(byNick.get(nickB)?.[3]).toBe("waitlisted");
  expect(rows[0].split(",").at(-1)).toBe("懇親会に参加しますか");
  expect(byNick.get(nickA)?.at(-1)).toBe("confirmed です");

  // Raising the capacity promotes B at once; lowering below the confirmed count is refused.
  await page.goto(`/admin/events/${eventId}`);
  await hydrated(page);
  const capacity = page.locator(".frame-capacity input[name=capacity]").first();
  await capacity.fill("2");
  await page.getByRole("button", { name: "定員を変更" }).first().click();
  await expect(page.locator(".frame-capacity label").first()).toContainText("(2/2, 0)");
  await capacity.fill("1");
  await page.getByRole("button", { name: "定員を変更" }).first().click();
  await expect(page.locator(".panel .field-error")).toContainText("参加確定者が 2人");

  const me = await b.newPage();
  await me.goto("/me");
  const mine = me.locator(".my-regs__item", { hasText: title });
  await expect(mine).toContainText("参加確定");
  await expect(mine).not.toContainText("補欠");
  // B was told by message, on the same page.
  await expect(me.locator(".inbox__item", { hasText: "繰り上げ参加" })).toHaveCount(1);
  // The refused capacity change is a 409 the browser logs; nothing else may appear.
  expect(problems.filter((p) => !p.includes("status of 409"))).toEqual([]);
});

test("an organizer invites a co-organizer by nickname; they join only by accepting on /me", async ({ browser }) => {
  const id = unique();
  const org = await signedIn(browser, `own${id}`);
  const guest = await signedIn(browser, `co${id}`);
  const made = await org.request.post("/api/admin/groups/create", {
    form: { slug: `inv-${id}`, title: `招待テスト ${id}` },
    headers: { accept: "application/json" },
  });
  expect(made.status(), await made.text()).toBe(200);
  const groupId = (await made.json()).id as number;

  const page = await org.newPage();
  const problems = watchConsole(page);
  await page.goto(`/admin/groups/${groupId}`);
  await hydrated(page);
  // An e-mail address is not looked up.
  await page.locator("#member-nickname").fill(`co${id}@example.com`);
  await page.getByRole("button", { name: "招待を送る" }).click();
  await expect(page.locator(".field-error")).toBeVisible();
  await page.locator("#member-nickname").fill(`co${id}`);
  await page.locator("#member-role").selectOption("admin");
  await page.getByRole("button", { name: "招待を送る" }).click();
  await expect(page.getByText("招待を送りました。")).toBeVisible();
  const pending = page.locator("li.member", { hasText: `@co${id}` });
  await expect(pending).toContainText("返答待ち");

  // The invited person sees it on /me and accepts.
  const theirs = await guest.newPage();
  await theirs.goto("/me");
  await hydrated(theirs);
  const invitation = theirs.locator("section[aria-labelledby=invitations-h] li", { hasText: `招待テスト ${id}` });
  await expect(invitation).toContainText("管理者");
  await invitation.getByRole("button", { name: "承諾する" }).click();
  await expect(theirs.locator("section[aria-labelledby=invitations-h]")).toHaveCount(0);

  // Now a member: the organizer's page lists them with the role, no longer pending.
  await page.reload();
  await hydrated(page);
  const member = page.locator("section[aria-labelledby=members-h] > ul.members li.member", { hasText: `@co${id}` });
  await expect(member).toBeVisible();
  await expect(page.getByText("返答待ち")).toHaveCount(0);
  // Only the refused e-mail lookup (a 422 answer the form showed as a field error).
  expect(problems).toEqual(["error: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]);
  await org.close();
  await guest.close();
});

test("an invitation-only event opens only through its invitation link, and registers through it", async ({ browser }) => {
  const id = unique();
  const org = await signedIn(browser, `vis${id}`);
  const eventId = await draftEvent(org, `vis-${id}`, `招待制 勉強会 ${id}`, 9, { capacity: "5" });

  // The organizer makes it invitation-only in the editor and publishes it.
  const page = await org.newPage();
  const problems = watchConsole(page);
  await page.goto(`/admin/events/${eventId}`);
  await hydrated(page);
  await page.locator("#f-visibility").selectOption("invitation");
  await page.getByRole("button", { name: "保存", exact: true }).click();
  const link = page.locator("section[aria-labelledby=invite-h] input.calendar-url");
  await expect(link).toHaveValue(new RegExp(`/events/${eventId}\\?invite=[0-9a-f]{48}$`));
  await page.getByRole("button", { name: "公開する" }).click();
  await expect(page.locator(".admin-status .chip")).toHaveText("公開中");
  const inviteUrl = new URL(await link.inputValue());
  expect(problems).toEqual([]);

  // A stranger: not in search, 404 by id, the page through the link.
  const guest = await signedIn(browser, `guest${id}`);
  const theirs = await guest.newPage();
  await theirs.goto(`/events?q=${encodeURIComponent(`招待制 勉強会 ${id}`)}`);
  await expect(theirs.getByText(`招待制 勉強会 ${id}`)).toHaveCount(0);
  const missing = await theirs.goto(`/events/${eventId}`);
  expect(missing?.status()).toBe(404);
  await theirs.goto(inviteUrl.pathname + inviteUrl.search);
  await hydrated(theirs);
  await expect(theirs.getByRole("heading", { level: 1 })).toHaveText(`招待制 勉強会 ${id}`);
  await expect(theirs.locator('meta[name="robots"]')).toHaveAttribute("content", "noindex, nofollow");
  await theirs.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(theirs.locator(".register .badge").first()).toHaveText("参加確定");
  // Registered, they open it by id from now on.
  const again = await theirs.goto(`/events/${eventId}`);
  expect(again?.status()).toBe(200);
  await org.close();
  await guest.close();
});

test("a hybrid event: each frame has its venue, and the online frame's URL reaches its registrants only", async ({
  browser,
}) => {
  const id = unique();
  const org = await signedIn(browser, `hyb${id}`);
  const eventId = await draftEvent(org, `hyb-${id}`, `ハイブリッド 勉強会 ${id}`, 8, {
    capacity: "20",
    venue_kind: "hybrid",
    place: "AIP Open Space",
    address: "東京都中央区日本橋1-4-1",
    online_url: "https://event.example/stream",
  });

  // In the editor: the first frame in person in Room A, and a new online frame with its URL.
  const page = await org.newPage();
  const problems = watchConsole(page);
  await page.goto(`/admin/events/${eventId}`);
  await hydrated(page);
  const rules = page.locator("details.frame-rules").first();
  await rules.locator("summary").click();
  await rules.locator("select[name=venue_kind]").selectOption("offline");
  await rules.locator("input[name=place]").fill("Room A");
  await rules.getByRole("button", { name: "保存", exact: true }).click();
  await page.locator("details.frame-add summary").click();
  await page.locator("#new-frame-name").fill("オンライン参加枠");
  await page.locator("#new-frame-capacity").fill("50");
  await page.locator("#new-frame-venue").selectOption("online");
  await page.locator("#new-frame-online").fill("javascript:alert(1)");
  await page.locator("details.frame-add button[type=submit]").click();
  await expect(page.locator("details.frame-add .field-error")).toContainText("https://");
  await expect(page.locator("#new-frame-venue"), "a refused form keeps the choices").toHaveValue("online");
  await page.locator("#new-frame-online").fill("https://frame.example/room-42");
  await page.locator("details.frame-add button[type=submit]").click();
  await expect(page.locator("details.frame-rules")).toHaveCount(2);
  await page.getByRole("button", { name: "公開する" }).click();
  await expect(page.locator(".admin-status .chip")).toHaveText("公開中");
  // The refused URL was answered 422 on purpose (the browser logs that); nothing else.
  expect(problems.filter((p) => !p.includes("status of 422"))).toEqual([]);

  // The public page: each frame's venue, no URL.
  const guest = await signedIn(browser, `hyg${id}`);
  const theirs = await guest.newPage();
  const theirProblems = watchConsole(theirs);
  await theirs.goto(`/events/${eventId}`);
  await hydrated(theirs);
  await expect(theirs.locator(".frames .frame__venue").first()).toContainText("Room A");
  await expect(theirs.locator(".frames .frame__venue").nth(1)).toContainText("オンライン参加");
  await expect(theirs.locator("body")).not.toContainText("frame.example");
  // Registered to the online frame, they get its own URL.
  await theirs.getByLabel(/オンライン参加枠/).check();
  await theirs.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(theirs.locator(".register .badge").first()).toHaveText("参加確定");
  await expect(theirs.locator(".online-url a")).toHaveAttribute("href", "https://frame.example/room-42");
  expect(theirProblems).toEqual([]);
  await org.close();
  await guest.close();
});

test("a ranked lottery: an applicant ranks the lottery frames drawn together, and a bad ranking is refused", async ({
  browser,
}) => {
  const id = unique();
  const org = await signedIn(browser, `lot${id}`);
  const json = { accept: "application/json" };
  const eventId = await draftEvent(org, `lot-${id}`, `抽選 勉強会 ${id}`, 10, {
    capacity: "2",
    venue_kind: "hybrid",
    place: "AIP Open Space",
  });
  const now = await serverNow(org.request);
  const draw = tokyoLocal(now, 5, "12:00");
  const editor = await (await org.request.get(`/api/admin/events/get?id=${eventId}`, { headers: json })).json();
  const room: number = editor.frames[0].id;
  const lottery = { event_id: String(eventId), method: "lottery", fee: "0", draw_local: draw };
  let res = await org.request.post("/api/admin/frames/update", {
    form: { ...lottery, frame_id: String(room), name: "会場（抽選）", venue_kind: "offline" },
    headers: json,
  });
  expect(res.status(), await res.text()).toBe(200);
  res = await org.request.post("/api/admin/frames/add", {
    form: { ...lottery, name: "オンライン（抽選）", capacity: "2", venue_kind: "online" },
    headers: json,
  });
  expect(res.status(), await res.text()).toBe(200);
  res = await org.request.post("/api/admin/frames/add", {
    form: { event_id: String(eventId), name: "当日枠", capacity: "5", method: "first_come", fee: "0" },
    headers: json,
  });
  expect(res.status(), await res.text()).toBe(200);
  const page = await org.newPage();
  await page.goto(`/admin/events/${eventId}`);
  await hydrated(page);
  await page.getByRole("button", { name: "公開する" }).click();
  await expect(page.locator(".admin-status .chip")).toHaveText("公開中");

  // An applicant: the form offers 第2希望 and 第3希望 among the two lottery frames only.
  const guest = await signedIn(browser, `lotg${id}`);
  const theirs = await guest.newPage();
  const problems = watchConsole(theirs);
  await theirs.goto(`/events/${eventId}`);
  await hydrated(theirs);
  const ranked = theirs.locator("fieldset.ranked-choice");
  await expect(ranked.locator("legend")).toHaveText("ほかにも参加できる枠（抽選・希望順）");
  await expect(ranked.locator("select")).toHaveCount(1);
  await expect(ranked.locator("#also-2 option")).toHaveText(["なし", "会場（抽選）", "オンライン（抽選）"]);
  await theirs.getByLabel(/会場（抽選）/).check();
  // Ranking the first choice again is refused beside the field, and registers nothing.
  await ranked.getByLabel("第2希望").selectOption({ label: "会場（抽選）" });
  await theirs.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(ranked.locator(".field-error")).toHaveText("同じ枠は一度だけ選べます");
  await expect(theirs.locator(".my-status")).toHaveCount(0);
  await expect(ranked.getByLabel("第2希望"), "a refused form keeps the choice").toHaveValue(String(room));
  await ranked.getByLabel("第2希望").selectOption({ label: "オンライン（抽選）" });
  await theirs.getByRole("button", { name: "参加を申し込む" }).click();
  await expect(theirs.locator(".register .badge").first()).toHaveText("抽選待ち");
  await expect(theirs.locator(".my-status__ranked").first()).toHaveText("希望順: 会場（抽選） → オンライン（抽選）");
  // After a reload the panel still shows the ranking.
  await theirs.reload();
  await hydrated(theirs);
  await expect(theirs.locator(".my-status__ranked").first()).toHaveText("希望順: 会場（抽選） → オンライン（抽選）");
  expect(problems.filter((p) => !p.includes("status of 422"))).toEqual([]);
  await org.close();
  await guest.close();
});

test("reconfirmation: the organizer requires it, an attendee reconfirms on the event page, the attendee page shows it", async ({
  browser,
}) => {
  const id = unique();
  const org = await signedIn(browser, `rcf${id}`);
  const eventId = await draftEvent(org, `rcf-${id}`, `再確認 勉強会 ${id}`, 10, { capacity: "5" });
  const page = await org.newPage();
  const problems = watchConsole(page);
  await page.goto(`/admin/events/${eventId}`);
  await hydrated(page);
  await page.getByRole("button", { name: "公開する" }).click();
  await expect(page.locator(".admin-status .chip")).toHaveText("公開中");
  const section = page.locator("section[aria-labelledby=reconfirm-h]");
  await expect(section.locator("h2")).toHaveText("参加の再確認");
  await section.getByLabel("期限").selectOption("24");
  await section.getByRole("button", { name: "再確認の設定を保存" }).click();
  await expect(section.locator(".reconfirm-summary")).toContainText("期限: ");
  await expect(section.getByLabel("期限"), "the saved choice is shown").toHaveValue("24");
  expect(problems).toEqual([]);

  // An attendee: the event page asks them to reconfirm, with the deadline in the event's zone.
  const guest = await signedIn(browser, `rcg${id}`);
  const res = await guest.request.post("/api/registrations/register", {
    form: { event_id: String(eventId) },
    headers: { accept: "application/json" },
  });
  expect(res.status(), await res.text()).toBe(200);
  const theirs = await guest.newPage();
  const theirProblems = watchConsole(theirs);
  await theirs.goto(`/events/${eventId}`);
  await hydrated(theirs);
  const box = theirs.locator(".reconfirm");
  await expect(box.locator(".reconfirm__title")).toHaveText("参加の再確認");
  await expect(box.locator("time")).toContainText("JST");
  await box.getByRole("button", { name: "参加します" }).click();
  await expect(box.locator(".badge")).toHaveText("再確認済み");
  // The message's link: a page with both answers; answering returns to the event.
  await theirs.goto(`/events/${eventId}/reconfirm`);
  await hydrated(theirs);
  await expect(theirs.getByRole("button", { name: "行けなくなった" })).toBeVisible();
  await theirs.getByRole("button", { name: "参加します" }).click();
  await expect(theirs).toHaveURL(new RegExp(`/events/${eventId}$`));
  expect(theirProblems).toEqual([]);

  // The organizer's attendee page shows who reconfirmed.
  await page.goto(`/admin/events/${eventId}/attendees`);
  await hydrated(page);
  await expect(page.locator(".attendees tbody tr").first().locator(".chip--ok")).toHaveText("再確認済み");
  await expect(page.locator(".reconfirm-summary")).toContainText("期限: ");
  await org.close();
  await guest.close();
});

test("a bilingual event: the editor's English column with its preview, and the page in the reader's language", async ({
  browser,
}) => {
  const id = unique();
  const org = await signedIn(browser, `bil${id}`);
  const eventId = await draftEvent(org, `bil-${id}`, `Rust 夜会 ${id}`, 9, { capacity: "5", catch: "型とトレイト" });
  const page = await org.newPage();
  const problems = watchConsole(page);
  await page.goto(`/admin/events/${eventId}`);
  await hydrated(page);
  await expect(page.locator(".editor__bilingual legend")).toHaveText(["日本語", "English（任意）"]);
  await page.locator("#f-title-en").fill(`Rust Night ${id}`);
  await page.locator("#f-description-en").fill("**Ownership** explained");
  await expect(page.locator(".editor__preview[lang=en] strong")).toHaveText("Ownership");
  const save = page.locator("form:has(#f-title-en) button[type=submit]");
  await save.click();
  await expect(page.locator("form:has(#f-title-en) .ok")).toHaveText("保存しました");
  await page.getByRole("button", { name: "公開する" }).click();
  await expect(page.locator(".admin-status .chip")).toHaveText("公開中");
  await expect(page.locator("#f-title-en"), "the English title is kept").toHaveValue(`Rust Night ${id}`);
  expect(problems).toEqual([]);

  // A reader in Japanese sees Japanese, and switches.
  const reader = await browser.newContext({ locale: "ja-JP" });
  const theirs = await reader.newPage();
  const theirProblems = watchConsole(theirs);
  await theirs.goto(`/events/${eventId}`);
  await hydrated(theirs);
  await expect(theirs.locator("h1.event__title")).toHaveText(`Rust 夜会 ${id}`);
  await theirs.getByRole("link", { name: "Show in English" }).click();
  await expect(theirs.locator("h1.event__title")).toHaveText(`Rust Night ${id}`);
  await expect(theirs.locator(".event__catch"), "no English catch: the Japanese one").toHaveText("型とトレイト");
  await expect(theirs.locator(".prose strong")).toHaveText("Ownership");
  await theirs.getByRole("link", { name: "日本語で表示" }).click();
  await expect(theirs.locator("h1.event__title")).toHaveText(`Rust 夜会 ${id}`);
  expect(theirProblems).toEqual([]);

  // A reader whose browser asks for English sees English first.
  const english = await browser.newContext({ locale: "en-US" });
  const en = await english.newPage();
  await en.goto(`/events/${eventId}`);
  await hydrated(en);
  await expect(en.locator("h1.event__title")).toHaveText(`Rust Night ${id}`);
  await expect(en.getByRole("link", { name: "日本語で表示" })).toBeVisible();
  await org.close();
  await reader.close();
  await english.close();
});
