// firefox-manual.mjs — a manual check of the court's pages in Debian's firefox-esr (not in the
// suite: Playwright drives stock Firefox only through its experimental WebDriver BiDi support).
// Inside tests/e2e/netns-run.sh: a judge in Firefox joins, a witness on testimony-client waits,
// the judge admits it by clicking, and each decodes the other's video.
//   tests/e2e/netns-run.sh node tests/browser/firefox-manual.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Relay, check, framesOf, log, report, stopAll, until } from './lib.mjs';

const FIREFOX = process.env.FIREFOX || '/usr/lib/firefox-esr/firefox-esr';
const pw = await import('playwright-core').catch(() => null);
const firefox = pw && (pw._bidiFirefox || pw.default?._bidiFirefox);
if (!firefox || !fs.existsSync(FIREFOX)) {
  log('no firefox-esr or no BiDi Firefox in playwright-core: skipping');
  process.exit(77);
}

const t0 = Date.now();
const watchdog = setTimeout(() => { log('FAILED timed out'); process.exit(1); }, 120_000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'testimony-firefox-'));
const relay = new Relay();
let browser = null;
try {
  await relay.start(tmp);
  browser = await firefox.launch({
    executablePath: FIREFOX, headless: true, timeout: 30_000,
    firefoxUserPrefs: {
      'media.navigator.streams.fake': true,            // fake camera and microphone
      'media.navigator.permission.disabled': true,     // no permission prompt
      'media.peerconnection.ice.loopback': true,       // ICE on 127.0.0.1
      'media.peerconnection.ice.obfuscate_host_addresses': false,  // no mDNS names
    },
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && log('[firefox console] ' + m.text()));
  log('firefox ' + browser.version());
  await page.goto(`${relay.url}/join#token=${relay.token('judge', 'Judge Somchai')}`);
  const join = page.getByRole('button', { name: 'Join the hearing' });
  check(await until(() => join.isEnabled(), 15_000), 'Firefox: the device check passes');
  await join.click();
  await page.locator('#view-hearing').waitFor({ state: 'visible' });
  const witness = new Client(relay, relay.token('witness', 'Witness A'), 'witness', '00ff00', 660, 60);
  const admit = page.getByRole('button', { name: 'Admit Witness A' });
  await admit.waitFor({ timeout: 20_000 });
  await admit.click();
  const f = await until(async () => { const n = await framesOf(page, 'Witness A'); return n > 30 ? n : 0; }, 20_000);
  check(f > 30, `Firefox: the judge's page decodes the witness (${f} frames)`);
  const w = await until(() => { const r = witness.remote('Judge Somchai'); return r && r.video.frames > 30 ? r : null; }, 20_000);
  check(w, `Firefox: the witness decodes the judge's Firefox camera (${w && w.video.frames} frames, ` +
           `${w && w.audio.buffers} audio buffers)`);
  await witness.stop();
} catch (e) {
  check(false, 'Firefox step: ' + (e.stack || e).toString().split('\n').slice(0, 3).join(' | '));
} finally {
  if (browser)
    await browser.close().catch(() => {});
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
  clearTimeout(watchdog);
}
report(t0);
