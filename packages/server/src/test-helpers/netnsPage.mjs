// Opens a page in headless Chromium from inside a network namespace (`ip netns exec <ns> node netnsPage.mjs
// <url>`), waits for `window.conveneConnectionTest.done` and prints the results as one JSON line.
// CHROMIUM_EXTRA_ARGS adds flags (e.g. `--enable-logging=stderr --vmodule=*/p2p/*=1` with DEBUG=pw:browser).
import { chromium } from 'playwright-core';

const url = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-quic',
    ...(process.env.CHROMIUM_EXTRA_ARGS ?? '').split(' ').filter(Boolean),
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.conveneConnectionTest?.done, null, { timeout: 90_000 });
  process.stdout.write(JSON.stringify(await page.evaluate(() => window.conveneConnectionTest)) + '\n');
} finally {
  await browser.close();
}
