// browser_witness.mjs — the witness in Chromium for tests/bench/poor_network.py --witness
// chromium: joins the hearing (through CHROMIUM_WRAPPER, which puts Chromium in the witness's
// network namespace), waits for the judge's picture, then prints one JSON line a second with
// what the page received of the judge (web/js/peers.js stats: frames decoded, Chromium's own
// freeze count and duration, audio samples received and concealed) and what it sent (`own`:
// frames, size, encoder target, the browser's estimate of its link), until DURATION seconds
// have passed. It also counts, as testimony-client does, the pauses of more than 500 ms between
// pictures the page put on screen (requestVideoFrameCallback on the judge's tile): Chromium's
// own freezeCount is a stricter rule. Not a test: nothing is asserted.
//
// Environment: RELAY_URL, TOKEN, CHROMIUM_WRAPPER, Y4M (the witness's camera), TMP, DURATION,
// JUDGE (the judge's display name).
import { launch, statsOf, until } from '../browser/lib.mjs';

const { chromium } = await import('../browser/node_modules/playwright-core/index.mjs');
const seconds = Number(process.env.DURATION || 60);
const { context, page } = await launch(chromium, process.env.TMP, 'witness',
                                       { y4m: process.env.Y4M,
                                         executable: process.env.CHROMIUM_WRAPPER });
// In the page: each picture of NAME's tile put on screen; `freezes` counts the gaps of more than
// 500 ms between two (the first picture starts the count), `longestMs` is the longest gap since
// the last readShown().
function watchShown(name) {
  const w = { frames: 0, freezes: 0, longestMs: 0, last: null };
  window.benchShown = w;
  const onFrame = (video) => (now, meta) => {
    const t = meta.expectedDisplayTime || now;
    if (w.last !== null) {
      w.freezes += t - w.last > 500 ? 1 : 0;
      w.longestMs = Math.max(w.longestMs, t - w.last);
    }
    w.last = t;
    w.frames++;
    video.requestVideoFrameCallback(onFrame(video));
  };
  const find = () => {
    const video = document.querySelector(`video[aria-label="${CSS.escape(name)}"]`);
    if (video)
      video.requestVideoFrameCallback(onFrame(video));
    else
      setTimeout(find, 100);
  };
  find();
}

function readShown() {
  const w = window.benchShown;
  const out = { frames: w.frames, freezes: w.freezes, longestMs: Math.round(w.longestMs) };
  w.longestMs = 0;
  return out;
}

const timer = setTimeout(() => process.exit(1), (seconds + 120) * 1000);  // bounded
// What the page did, with the seconds since the start, on stderr (stdout carries the JSON
// lines): when it never joins, the harness prints this log, and it says where it stopped.
const t0 = Date.now();
const step = (what) => console.error(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
page.on('requestfailed', (r) => step(`request failed: ${r.url()} ${r.failure()?.errorText}`));
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') step(`console: ${m.text()}`); });
try {
  // as long as a person would wait (the tests' 15 s is for a clean loopback)
  await page.goto(`${process.env.RELAY_URL}/join#token=${process.env.TOKEN}`, { timeout: 90_000 });
  step('page loaded');
  const enabled =
    await until(() => page.getByRole('button', { name: 'Join the hearing' }).isEnabled(), 30_000);
  step(enabled ? 'join button enabled' : 'join button still not enabled after 30 s');
  await page.getByRole('button', { name: 'Join the hearing' }).click();
  step('join clicked');
  // The page, its scripts and the join over the impaired link: TCP at 10 % bursty loss and a
  // 200 ms round trip took more than 30 s now and then.
  await page.locator('#view-hearing').waitFor({ state: 'visible', timeout: 90_000 });
  step('in the hearing');
  console.log(JSON.stringify({ joined: true }));
  await page.evaluate(watchShown, process.env.JUDGE);
  const end = Date.now() + (seconds + 60) * 1000;
  while (Date.now() < end) {
    const s = await statsOf(page, process.env.JUDGE).catch(() => null);
    const own = await page.evaluate(() => window.testimony.sending()).catch(() => null);
    const shown = await page.evaluate(readShown).catch(() => null);
    console.log(JSON.stringify({ time: Date.now() / 1000, judge: s, own, shown }));
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (e) {
  step(`witness page: ${e.message}`);
} finally {
  clearTimeout(timer);
  await context.close().catch(() => {});
}
process.exit(0);
