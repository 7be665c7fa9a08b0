import { defineConfig, devices } from "@playwright/test";

// The server under test: the dev build from scripts/build.sh, on its own port and a
// fresh SQLite file filled with demo data.
const port = Number(process.env.TSUDOI_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

// Debian's Chromium (never a downloaded browser); the flags keep it off the closed network.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  // Journeys hydrate several pages (see `hydrated` in tests/helpers.ts).
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  // Japanese is the default UI language; the browser asks for it like a user in Japan would.
  use: { baseURL, trace: "retain-on-failure", launchOptions, locale: "ja-JP", timezoneId: "Asia/Tokyo" },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], launchOptions, locale: "ja-JP", timezoneId: "Asia/Tokyo" } },
  ],
  webServer: {
    command: "rm -f target/e2e.db target/e2e.db-shm target/e2e.db-wal && exec target/debug/tsudoi",
    cwd: "..",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      DATABASE_URL: "sqlite://target/e2e.db",
      TSUDOI_DEMO: "1",
      // scripts/test-dates.sh starts the server's clock on other days; empty means the real time.
      TSUDOI_NOW: process.env.TSUDOI_NOW ?? "",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      TSUDOI_PUBLIC_URL: baseURL,
      RUST_LOG: "warn",
      // Every browser test signs up from 127.0.0.1.
      TSUDOI_RATE_SIGNUP_PER_IP: "10000",
      TSUDOI_RATE_LOGIN_PER_IP: "10000",
      TSUDOI_RATE_API_PER_IP: "10000",
      // Journeys fill the sign-up form faster than a person; the minimum is tested in Rust.
      TSUDOI_FORM_MIN_SECONDS: "0",
    },
  },
});
