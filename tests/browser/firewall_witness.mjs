// firewall_witness.mjs — a witness in Chromium joins a hearing; run by firewall.py, which starts
// the relay and the judge and puts this Chromium behind a firewall (another network namespace,
// reached through the wrapper CHROMIUM_WRAPPER). Prints one line of JSON for firewall.py:
// whether the page joined, the judge's frames it decoded, its selected ICE candidate pair and
// (WAIT_FOR_REPAIR set: across a lossy link) how long its video waits for the judge's repairs.
//
// Environment: RELAY_URL, TOKEN, CHROMIUM_WRAPPER, Y4M (the witness's camera), TMP, and
// CHROMIUM_ARGS (more flags, space-separated), WAIT_FOR_REPAIR, HOLD_S (seconds to stay after
// that, printing what the page sends each second as JSON lines).
// Exit status: 0 (the checks are firewall.py's), 77 when playwright-core or chromium is missing.
import { CHROMIUM, framesOf, launch, log, statsOf, until } from './lib.mjs';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log('playwright-core is not installed (npm ci in tests/browser): skipping');
  process.exit(77);
}
if (!CHROMIUM) {
  console.log('chromium is not installed: skipping');
  process.exit(77);
}

const out = { joined: false, frames: 0, width: 0, pair: null };
const { context, page } = await launch(chromium, process.env.TMP, 'witness',
                                       { y4m: process.env.Y4M,
                                         executable: process.env.CHROMIUM_WRAPPER,
                                         extraArgs: (process.env.CHROMIUM_ARGS || '').split(' ')
                                           .filter(Boolean) });
// Across the lossy link the page itself comes over TCP at 10 % bursty loss and a 200 ms round
// trip: loading it took more than 15 s now and then (a burst outlasting TCP's backed-off
// retransmissions), so it gets 60 s there, and the whole run stays inside firewall.py's 180 s.
const lossy = Boolean(process.env.WAIT_FOR_REPAIR);
const joinMs = lossy ? 60_000 : 20_000;
const timer = setTimeout(() => process.exit(1),
                         (lossy ? 170_000 : 120_000) + Number(process.env.HOLD_S || 0) * 1000);
try {
  const started = Date.now();
  await page.goto(`${process.env.RELAY_URL}/join#token=${process.env.TOKEN}`, { timeout: joinMs });
  log(`the page loaded in ${Date.now() - started} ms`);
  await until(() => page.getByRole('button', { name: 'Join the hearing' }).isEnabled(), joinMs);
  await page.getByRole('button', { name: 'Join the hearing' }).click();
  await page.locator('#view-hearing').waitFor({ state: 'visible', timeout: joinMs });
  out.joined = true;
  await until(async () => (await framesOf(page, 'Judge Somchai')) > 30, 60_000);
  if (process.env.WAIT_FOR_REPAIR) {  // a lossy link: the page's wait for the judge's repairs
    await until(async () => ((await statsOf(page, 'Judge Somchai')) || {}).waitMs >= 600, 20_000)
      .catch(() => {});
  }
  const s = await statsOf(page, 'Judge Somchai');
  out.waitMs = s ? s.waitMs : null;
  out.frames = s ? s.framesDecoded : 0;
  out.width = s ? s.frameWidth : 0;
  // How the publish connection reaches the relay (window.testimony.path, web/js/peers.js).
  out.pair = await page.evaluate(() => window.testimony.path());
  await new Promise((r) => setTimeout(r, 5000));  // the judge's client reports what it got
  console.log(JSON.stringify(out));
  // HOLD_S: stay in the hearing that long more (firewall.py --step changes the link meanwhile),
  // printing what the page sends each second (window.testimony.sending, web/js/peers.js).
  const holdUntil = Date.now() + Number(process.env.HOLD_S || 0) * 1000;
  while (Date.now() < holdUntil) {
    const own = await page.evaluate(() => window.testimony.sending()).catch(() => null);
    console.log(JSON.stringify({ time: Date.now() / 1000, own }));
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (e) {
  log(`witness page: ${e.message}`);
} finally {
  clearTimeout(timer);
  console.log(JSON.stringify(out));
  await context.close().catch(() => {});
}
process.exit(0);
