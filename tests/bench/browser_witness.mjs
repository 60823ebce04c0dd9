// browser_witness.mjs — the witness in Chromium for tests/bench/poor_network.py --witness
// chromium: joins the hearing (through CHROMIUM_WRAPPER, which puts Chromium in the witness's
// network namespace), waits for the judge's picture, then prints one JSON line a second with
// what the page received of the judge (web/js/peers.js stats: frames decoded, Chromium's own
// freeze count and duration, audio samples received and concealed), until DURATION seconds
// have passed. Not a test: nothing is asserted.
//
// Environment: RELAY_URL, TOKEN, CHROMIUM_WRAPPER, Y4M (the witness's camera), TMP, DURATION,
// JUDGE (the judge's display name).
import { launch, log, statsOf, until } from '../browser/lib.mjs';

const { chromium } = await import('../browser/node_modules/playwright-core/index.mjs');
const seconds = Number(process.env.DURATION || 60);
const { context, page } = await launch(chromium, process.env.TMP, 'witness',
                                       { y4m: process.env.Y4M,
                                         executable: process.env.CHROMIUM_WRAPPER });
const timer = setTimeout(() => process.exit(1), (seconds + 120) * 1000);  // bounded
try {
  await page.goto(`${process.env.RELAY_URL}/join#token=${process.env.TOKEN}`);
  await until(() => page.getByRole('button', { name: 'Join the hearing' }).isEnabled(), 30_000);
  await page.getByRole('button', { name: 'Join the hearing' }).click();
  // The page, its scripts and the join over the impaired link: TCP at 10 % bursty loss and a
  // 200 ms round trip took more than 30 s now and then.
  await page.locator('#view-hearing').waitFor({ state: 'visible', timeout: 90_000 });
  console.log(JSON.stringify({ joined: true }));
  const end = Date.now() + (seconds + 60) * 1000;
  while (Date.now() < end) {
    const s = await statsOf(page, process.env.JUDGE).catch(() => null);
    console.log(JSON.stringify({ time: Date.now() / 1000, judge: s }));
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (e) {
  log(`witness page: ${e.message}`);
} finally {
  clearTimeout(timer);
  await context.close().catch(() => {});
}
process.exit(0);
