// court.test.mjs — the court's web pages in a real headless Chromium, end to end.
//
// Inside a private network namespace (tests/e2e/netns-run.sh): a relay with a waiting room; a
// judge in Chromium; a witness with testimony-client (green picture, 660 Hz); a clerk in a
// second Chromium whose fake camera is a blue y4m. The judge admits both from the waiting list
// by clicking. Then: the witness's report shows the clerk's blue and the judge's frames; the
// judge's page decodes the witness's video (framesDecoded from getStats rising). Then a witness
// in a browser (waiting slate, admitted, in the hearing), a denied camera and a bad token.
// Screenshots of each view go to docs/screenshots/. Everything is bounded (< 3.5 minutes).
//
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or no node_modules).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, Client, Relay, check, failures, framesOf, here, launch as launchIn, log, report,
         root, run, sleep, started, statsOf, stopAll, until } from './lib.mjs';

const SHOTS = process.env.TESTIMONY_SCREENSHOTS || path.join(root, 'docs', 'screenshots');
const SKIP = 77;
const TOTAL_MS = 210_000;  // the whole test, hard limit (about 60-100 s on an idle machine)

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log('playwright-core is not installed (npm ci in tests/browser): skipping');
  process.exit(SKIP);
}
if (!CHROMIUM) {
  console.log('chromium is not installed (apt-get install --no-install-recommends chromium): skipping');
  process.exit(SKIP);
}

const launch = (tmp, name, options) => launchIn(chromium, tmp, name, options);

async function shot(page, file) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, file), fullPage: true, timeout: 15_000 });
  log(`       screenshot docs/screenshots/${file}`);
}

/* ---- the test ---- */

function near(rgb, want, tol) {
  return rgb && want.every((v, i) => Math.abs(rgb[i] - v) <= tol);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'testimony-browser-'));
  const relay = new Relay();
  const contexts = [];
  let witness = null;
  try {
    await relay.start(tmp, ['--transport-cc']);  // so that the browsers' transport-cc is checked
    const y4m = {};
    for (const [name, color] of [['judge', 'ff0000'], ['clerk', '0000ff'], ['witness', '00ff00']]) {
      y4m[name] = path.join(tmp, `${name}.y4m`);
      run(path.join(here, 'make-y4m.sh'), [color, y4m[name], '30']);
    }

    // 1. The judge: device check (screenshot), then join.
    const judge = await launch(tmp, 'judge', { y4m: y4m.judge });
    contexts.push(judge.context);
    const jp = judge.page;
    await jp.goto(`${relay.url}/join#token=${relay.token('judge', 'Judge Somchai')}`);
    check(!jp.url().includes('token='), 'the token is taken out of the address bar');
    await jp.getByRole('button', { name: 'Join the hearing' }).waitFor();
    const ready = await until(async () => (await jp.locator('#check-state').textContent())
      .includes('camera and microphone work'), 10_000);
    check(ready, 'device check: the judge\'s camera and microphone work');
    await until(() => jp.evaluate(() => document.getElementById('selfview').videoWidth > 0), 5000);
    await until(() => jp.evaluate(() => document.getElementById('level').value > 0), 5000);
    check(await jp.evaluate(() => document.getElementById('level').value > 0),
          'device check: the level meter moves (fake microphone beeps)');
    // The camera and microphone pickers list Chromium's fake devices; the microphone chosen is
    // the one opened, and remembered (localStorage) for the next visit.
    await jp.locator('#device-pick').waitFor({ state: 'visible', timeout: 5000 });
    const cams = await jp.locator('#camera-select option').allTextContents();
    const mics = await jp.locator('#mic-select option').evaluateAll((os) =>
      os.map((o) => ({ value: o.value, label: o.textContent, selected: o.selected })));
    // Chromium's fake camera is "fake_device_0", or the file it plays when given one
    check(cams.length === 1 && (cams[0] === 'fake_device_0' || cams[0] === y4m.judge),
          `device check: the camera picker lists Chromium's one fake camera (${cams.join(', ')})`);
    check(mics.length >= 1 && mics.some((m) => m.selected),
          `device check: the microphone picker lists the microphones, the one in use selected (${mics.map((m) => m.label).join(', ')})`);
    const usedBefore = await jp.evaluate(() => window.testimony.devices());
    const pick = mics.find((m) => m.value !== usedBefore.audio) || mics[mics.length - 1];
    await jp.selectOption('#mic-select', pick.value);
    const usedAfter = await until(async () => {
      const d = await jp.evaluate(() => window.testimony.devices());
      return d.audio === pick.value && d.video ? d : null;
    }, 10_000);
    check(usedAfter, `device check: the chosen microphone "${pick.label}" is the one opened ` +
          `(${usedBefore.audio.slice(0, 8)} -> ${usedAfter && usedAfter.audio.slice(0, 8)})`);
    check(await jp.evaluate(() => localStorage.getItem('testimony.microphone')) === pick.value,
          'device check: the choice is remembered in this browser');
    await jp.reload();
    await until(async () => (await jp.locator('#check-state').textContent()).includes('camera and microphone work'), 10_000);
    const reopened = await jp.evaluate(() => window.testimony.devices());
    check(reopened.audio === pick.value &&
          await jp.locator('#mic-select').inputValue() === pick.value,
          'device check: after a reload the remembered microphone is opened and shown as chosen');
    await shot(jp, 'join-device-check.png');
    await jp.getByRole('button', { name: 'Join the hearing' }).click();
    await jp.locator('#view-hearing').waitFor({ state: 'visible' });
    check(true, 'the judge is in the hearing');

    // 2. The witness (testimony-client) and the clerk (Chromium, blue) join and wait.
    witness = new Client(relay, relay.token('witness', 'Witness A'), 'witness', '00ff00', 660, 120);
    const clerk = await launch(tmp, 'clerk', { y4m: y4m.clerk });
    contexts.push(clerk.context);
    const cp = clerk.page;
    // The clerk's signalling goes through Playwright, so that the test can drop it (5b).
    let clerkSocket = null;
    await cp.routeWebSocket(/\/ws$/, (ws) => {
      ws.connectToServer();
      clerkSocket = ws;
    });
    await cp.goto(`${relay.url}/join#token=${relay.token('clerk', 'Clerk B')}`);
    await until(() => cp.getByRole('button', { name: 'Join the hearing' }).isEnabled(), 10_000);
    await cp.getByRole('button', { name: 'Join the hearing' }).click();
    await cp.locator('#view-waiting').waitFor({ state: 'visible' });
    check(true, 'the clerk sees the waiting slate');

    // 3. The judge admits both from the waiting list, by clicking.
    const admitW = jp.getByRole('button', { name: 'Admit Witness A' });
    const admitC = jp.getByRole('button', { name: 'Admit Clerk B' });
    await admitW.waitFor({ timeout: 20_000 });
    await admitC.waitFor({ timeout: 20_000 });
    check(true, 'the judge\'s waiting list shows the witness and the clerk');
    // Listed once: in the waiting list, not also as a tile, though the page knows them.
    const known = await until(() => jp.evaluate(() => ['Witness A', 'Clerk B'].every((n) =>
      window.testimony.state().participants.some((p) => p.name === n && p.state === 'waiting'))), 10_000);
    const listed = {};
    for (const n of ['Witness A', 'Clerk B'])
      listed[n] = [await jp.locator('#waiting-list li').filter({ hasText: n }).count(),
                   await jp.locator('#tiles li').filter({ hasText: n }).count()];
    check(known && Object.values(listed).every(([w, tiles]) => w === 1 && tiles === 0),
          `the judge's page lists each waiting person once, in the waiting list, not as a tile (${JSON.stringify(listed)})`);
    await shot(jp, 'judge-waiting-list.png');
    await admitW.click();
    await admitC.click();
    await cp.locator('#view-hearing').waitFor({ state: 'visible', timeout: 10_000 });
    check(true, 'the clerk is admitted (by the judge\'s click)');

    // 4. What arrives where.
    const t0 = Date.now();
    const f1 = await until(async () => {
      const f = await framesOf(jp, 'Witness A');
      return f > 30 ? f : 0;
    }, 25_000);
    log(`       judge's page decoded the witness's first 30 frames after ${Date.now() - t0} ms`);
    await sleep(2000);
    const f2 = await framesOf(jp, 'Witness A');
    check(f1 > 30 && f2 > f1 + 20,
          `the judge's page decodes the witness's video, and it keeps playing (${f1} -> ${f2} frames in 2 s)`);
    // The witness's client sends 640x480, or 480x360 / 320x240 while its encoder cannot keep to
    // its target (client/bitrate.c: a machine loaded by other work): the picture as sent.
    const SIZES = ['640x480', '480x360', '320x240'];
    const ws = await statsOf(jp, 'Witness A');
    const size = ws ? `${ws.frameWidth}x${ws.frameHeight}` : 'none';
    check(SIZES.includes(size),
          `the witness's picture reaches the judge at one of the client's sizes, 4:3 (${size})`);
    const playing = await jp.evaluate(() => {
      const li = [...document.querySelectorAll('#tiles li')]
        .find((l) => l.querySelector('.tile-name').textContent.startsWith('Witness A'));
      const v = li && li.querySelector('video');
      return v ? { w: v.videoWidth, paused: v.paused, hidden: v.hidden } : null;
    });
    check(playing && playing.w >= 320 && !playing.paused && !playing.hidden,
          `the judge's witness tile plays the picture (${JSON.stringify(playing)})`);

    const got = await until(() => {
      const c = witness.remote('Clerk B');
      const j = witness.remote('Judge Somchai');
      return c && j && c.video.frames > 30 && j.video.frames > 30 ? { c, j } : null;
    }, 25_000);
    const cv = got && got.c.video;
    const jv = got && got.j.video;
    check(got && near([cv.r, cv.g, cv.b], [0, 0, 255], 40),
          `the witness's client sees the clerk's blue (${cv ? `${cv.frames} frames, rgb ${cv.r},${cv.g},${cv.b}` : 'nothing'})`);
    check(got && jv.frames > 30,
          `the witness's client decodes the judge's frames (${jv ? `${jv.frames}, rgb ${jv.r},${jv.g},${jv.b}` : 'nothing'})`);
    check(got && near([jv.r, jv.g, jv.b], [255, 0, 0], 40), 'and the judge\'s picture is the judge\'s red');
    const ja = got && got.j.audio;
    check(ja && ja.buffers > 50, `the witness hears the judge (${ja && ja.buffers} audio buffers)`);
    const cf = await until(async () => (await framesOf(cp, 'Witness A')) > 30, 10_000);
    check(cf, 'the clerk\'s page decodes the witness too');

    // 5. The clerk records and marks; the judge sees link quality.
    check(await jp.getByRole('button', { name: 'Start recording' }).isVisible(),
          'the judge\'s page has the "Start recording" button');
    await cp.getByRole('button', { name: 'Start recording' }).click();
    await cp.locator('#rec').waitFor({ state: 'visible', timeout: 10_000 });
    await cp.getByRole('button', { name: 'Witness sworn' }).click();
    const marked = await until(async () => (await cp.locator('#marks').textContent()).includes('Witness sworn'), 5000);
    check(marked, 'the clerk\'s marker is acknowledged by the relay and listed');
    const timer = await until(async () => {
      const tx = await cp.locator('#rec-time').textContent();
      return /00:00:0[2-9]/.test(tx) ? tx : null;
    }, 8000);
    check(timer, `the clerk sees the recording's running time (${timer})`);
    // The judge has the recording controls the relay allows a judge (record, mark).
    check(await jp.getByRole('button', { name: 'Pause' }).isVisible() &&
          await jp.getByRole('button', { name: 'Stop recording' }).isVisible(),
          'the judge\'s page has the recording buttons (pause, stop)');
    await jp.locator('#mark-text').fill('Exhibit 3 shown');
    await jp.getByRole('button', { name: 'Add marker' }).click();
    const judgeMarked = await until(async () => (await jp.locator('#marks').textContent()).includes('Exhibit 3 shown'), 5000);
    check(judgeMarked, 'the judge places a marker; the relay acknowledges it');
    await jp.getByRole('button', { name: 'Pause' }).click();
    const paused = await until(() => cp.evaluate(() => window.testimony.state().recording === 'paused'), 5000);
    check(paused, 'the judge pauses the recording (the clerk\'s page shows it paused)');
    await jp.getByRole('button', { name: 'Resume' }).click();
    const resumedRec = await until(() => cp.evaluate(() => window.testimony.state().recording === 'recording'), 5000);
    check(resumedRec, 'the judge resumes the recording');
    check(await jp.locator('#rec').isVisible(), 'the judge sees the recording indicator');
    const quality = await until(async () => {
      const q = await jp.locator('#tiles li .quality[data-level="good"]').count();
      return q >= 2 ? q : 0;
    }, 8000);
    check(quality >= 2, `the judge sees link quality on the tiles (${quality} good)`);
    await shot(cp, 'clerk.png');
    await shot(jp, 'judge.png');
    // 5b. The clerk's signalling connection drops (closed with no normal close, as a dying link
    // does): the page connects again by itself and continues its place — the same participant,
    // still admitted, not in the judge's waiting list — and the witness's picture plays again.
    const before = await cp.evaluate(() => window.testimony.state().me.id);
    const firstSocket = clerkSocket;
    firstSocket.close({ code: 4000, reason: 'the test drops the link' });
    const away = await until(async () => (await jp.evaluate(() => window.testimony.state()
      .participants.find((p) => p.name === 'Clerk B')) || {}).connection === 'reconnecting' ||
      clerkSocket !== firstSocket, 10_000);
    check(away, 'the judge\'s page learns the clerk is reconnecting (or already back)');
    const resumed = await until(async () => clerkSocket !== firstSocket &&
      (await cp.evaluate(() => window.testimony.state().reconnections)) === 1, 20_000);
    check(resumed, `the clerk's page connects again by itself and continues its place (a new ` +
          `socket: ${clerkSocket !== firstSocket})`);
    const after = await cp.evaluate(() => window.testimony.state().me);
    check(after && after.id === before && after.state === 'admitted',
          `the clerk continues as the same participant, still admitted (${before} -> ${after && after.id}, ${after && after.state})`);
    const fAfter = await until(async () => {
      const f = await framesOf(cp, 'Witness A');
      return f > 30 ? f : 0;
    }, 20_000);
    check(fAfter > 30, `the clerk's page decodes the witness again after reconnecting (${fAfter} frames)`);
    const back = await until(async () => (await jp.evaluate(() => window.testimony.state()
      .participants.find((p) => p.name === 'Clerk B')) || {}).connection === 'connected', 15_000);
    check(back, 'the judge\'s page shows the clerk connected again');
    check(!(await jp.getByRole('button', { name: 'Admit Clerk B' }).isVisible()),
          'the judge was not asked to admit the clerk again');

    // Screening the witness: the judge's table says the clerk still sees the witness.
    await jp.getByLabel('Screen the witness').click();
    await until(() => jp.getByLabel('Screen the witness').isChecked(), 5000);
    check(await jp.getByLabel('Screen the witness').isChecked(), 'the judge switches "screen the witness" on');
    // The switch shows at once; the table follows the relay's next status.
    const seesRow = () => jp.locator('#sees-body tr').filter({
      has: jp.locator('th', { hasText: /^Witness A \(witness\)$/ }) }).textContent();
    await until(async () => !(await seesRow()).includes('Clerk B'), 10_000);
    const row = await seesRow();
    check(row.includes('Judge Somchai') && !row.includes('Clerk B'),
          `the table says the screened witness sees only the judge (${row.trim()})`);
    await jp.getByLabel('Screen the witness').click();
    await until(async () => !(await jp.getByLabel('Screen the witness').isChecked()), 5000);

    // 6. A witness in a browser: device check, waiting slate, admitted, in the hearing.
    await witness.stop();
    const wb = await launch(tmp, 'witness', { y4m: y4m.witness });
    contexts.push(wb.context);
    const wp = wb.page;
    await wp.goto(`${relay.url}/join#token=${relay.token('witness', 'Witness A')}`);
    await until(() => wp.getByRole('button', { name: 'Join the hearing' }).isEnabled(), 10_000);
    await wp.getByRole('button', { name: 'Join the hearing' }).click();
    await wp.locator('#view-waiting').waitFor({ state: 'visible' });
    check((await wp.locator('#view-waiting').textContent()).includes('The court will admit you shortly'),
          'the browser witness sees the waiting slate');
    await shot(wp, 'witness-waiting.png');
    await jp.getByRole('button', { name: 'Admit Witness A' }).click();
    await wp.locator('#view-hearing').waitFor({ state: 'visible', timeout: 10_000 });
    const wf = await until(async () => (await framesOf(wp, 'Judge Somchai')) > 30, 15_000);
    check(wf, 'the browser witness sees the judge');
    check(await wp.locator('#rec').isVisible() &&
          (await wp.locator('#rec').textContent()).includes('Recording'),
          'the browser witness sees the "Recording" indicator');
    check(await wp.locator('#panel').isHidden() && await wp.locator('#my-controls').isHidden(),
          'the witness has no court controls and no switches');
    const jfw = await until(async () => (await framesOf(jp, 'Witness A')) > 30, 15_000);
    check(jfw, 'the judge sees the browser witness');
    // transport-cc: the relay answered it to the browser witness's publish connection, so every
    // packet carries a transport-wide sequence number and the relay reports their arrivals.
    const statusToken = relay.token('clerk', 'Status');
    const twcc = await until(async () => {
      const st = await wp.evaluate(async (tok) => (await fetch('/api/status',
        { headers: { Authorization: 'Bearer ' + tok } })).json(), statusToken);
      const w = st.participants.filter((p) => p.name === 'Witness A' && p.publishing);
      return w.some((p) => p.twcc_in > 100 && p.twcc_out > 5) ? w : null;
    }, 10_000);
    check(twcc, 'transport-cc with the browser witness: ' + JSON.stringify((twcc || []).map((p) =>
      ({ twcc_in: p.twcc_in, twcc_out: p.twcc_out, estimate_kbps: p.estimate_kbps }))));
    // RED (RFC 2198): Chromium offers red/48000/2 for its Opus and the relay answers it, so the
    // witness's page sends its sound with redundancy (the relay takes it apart for the judge,
    // who hears it) and gets the judge's and the clerk's with redundancy, and plays them.
    const red = await until(async () => {
      const st = await wp.evaluate(async (tok) => (await fetch('/api/status',
        { headers: { Authorization: 'Bearer ' + tok } })).json(), statusToken);
      const w = st.participants.find((p) => p.name === 'Witness A' && p.publishing);
      const heard = await statsOf(wp, 'Judge Somchai');
      const judgeHears = await statsOf(jp, 'Witness A');
      return w && w.red_in > 100 && w.red_out > 100 && heard && heard.totalSamplesReceived > 48000 &&
        judgeHears && judgeHears.totalSamplesReceived > 48000
        ? { red_in: w.red_in, red_out: w.red_out, witness_hears: heard.totalSamplesReceived,
            judge_hears: judgeHears.totalSamplesReceived } : null;
    }, 10_000);
    check(red, 'RED sound both ways with the browser witness, and heard: ' + JSON.stringify(red));
    // The witness's page shows only the judge: it tells the relay so, and gets the clerk's sound
    // but none of the clerk's video (the relay's own counters).
    const notShown = await until(async () => {
      const st = await wp.evaluate(async (tok) => (await fetch('/api/status',
        { headers: { Authorization: 'Bearer ' + tok } })).json(), statusToken);
      const clerkId = (st.participants.find((p) => p.name === 'Clerk B') || {}).id;
      const r = st.participants.filter((p) => p.role === 'witness')
        .map((p) => (p.received || {})[clerkId]).find((x) => x && x.shown === false);
      return r && r.audio > 50 ? r : null;
    }, 10_000);
    check(notShown && notShown.video === 0,
          'the browser witness gets the clerk\'s sound but not the picture it does not show: ' +
          JSON.stringify(notShown));
    // ICE restart (what the page does when a connection's ICE stays disconnected for 4 s): new
    // ICE credentials on every connection of the witness, the same DTLS and SRTP; the relay
    // answers each and keeps it, the witness stays the same participant without reconnecting,
    // and the pictures go on both ways.
    const statusOf = async () => wp.evaluate(async (tok) => (await fetch('/api/status',
      { headers: { Authorization: 'Bearer ' + tok } })).json(), statusToken);
    const witnessRow = (st) => st.participants.find((p) => p.name === 'Witness A') || {};
    const beforeRestart = witnessRow(await statusOf());
    const framesBefore = [await framesOf(jp, 'Witness A'), await framesOf(wp, 'Judge Somchai')];
    const restarted = await wp.evaluate(() => window.testimony.restartIce());
    const restartedRow = await until(async () => {
      const w = witnessRow(await statusOf());
      return w.ice_restarts >= restarted ? w : null;
    }, 10_000);
    check(restarted >= 2 && restartedRow && restartedRow.id === beforeRestart.id,
          `the relay restarts ICE on the witness's ${restarted} connections and keeps the ` +
          `participant (${beforeRestart.id} -> ${restartedRow && restartedRow.id}, ice_restarts ` +
          `${restartedRow && restartedRow.ice_restarts})`);
    const flowing = await until(async () =>
      (await framesOf(jp, 'Witness A')) > framesBefore[0] + 60 &&
      (await framesOf(wp, 'Judge Somchai')) > framesBefore[1] + 60 &&
      (await wp.evaluate(() => window.testimony.state().reconnections)) === 0, 20_000);
    check(flowing, 'after the ICE restart the judge sees the witness and the witness the judge, ' +
          'on the same connections (no reconnection)');
    await until(() => wp.evaluate(() => [...document.querySelectorAll('#tiles video, #selfmini')]
      .every((v) => v.videoWidth > 0 && v.currentTime > 0.5)), 5000);
    await shot(wp, 'witness-hearing.png');
    // The same slate in Thai.
    await cp.getByRole('button', { name: 'Stop recording' }).click();
    await cp.getByRole('dialog').getByRole('button', { name: 'Stop recording' }).click();
    await until(() => cp.locator('#rec').isHidden(), 5000);
    check(await cp.locator('#rec').isHidden(), 'the clerk stops the recording (after confirming)');

    // 7. Errors: a denied camera, and a bad token.
    const denied = await launch(tmp, 'denied', { fakeUi: false, denyPrompts: true });
    contexts.push(denied.context);
    const dp = denied.page;
    await dp.goto(`${relay.url}/join#token=${relay.token('prosecutor', 'Prosecutor C')}`);
    await dp.locator('#check-error').waitFor({ state: 'visible', timeout: 10_000 });
    const deniedText = await dp.locator('#check-error').textContent();
    check(deniedText.includes('Your camera or microphone is blocked by the browser') &&
          deniedText.includes('Here is how to allow it'),
          `a denied camera says so and how to allow it ("${deniedText.slice(0, 80)}…")`);
    await shot(dp, 'error-camera-blocked.png');

    const bp = await judge.context.newPage();
    await bp.goto(`${relay.url}/join#token=eyJhbGciOiJIUzI1NiJ9.eyJocmciOiJoMSJ9.bm90LWEtc2lnbmF0dXJl`);
    await until(() => bp.getByRole('button', { name: 'Join the hearing' }).isEnabled(), 10_000);
    await bp.getByRole('button', { name: 'Join the hearing' }).click();
    await bp.locator('#message-text').filter({ hasText: 'not valid' }).waitFor({ timeout: 10_000 });
    const badText = await bp.locator('#view-message').textContent();
    check(badText.includes('This join link is not valid') && badText.includes('bad-token'),
          `a bad token says the link is not valid (and the code for IT: bad-token)`);
    await shot(bp, 'error-bad-token.png');

    // 8. Thai: the language chooser.
    await bp.goto(`${relay.url}/join?lang=th`);
    await bp.locator('#view-join').waitFor({ state: 'visible' });
    const th = await bp.locator('#join-h').textContent();
    check(th === 'เข้าร่วมการพิจารณาคดี', `the join page in Thai (${th})`);
    await bp.selectOption('#lang', 'en');
    check(await bp.locator('#join-h').textContent() === 'Join the hearing', 'and back to English');
    await bp.selectOption('#lang', 'th');
    await shot(bp, 'join-thai.png');
    await bp.close();

    check(relay.proc.exitCode === null, 'the relay is still running');
    // Chromium offers AEAD_AES_128_GCM, which the relay prefers; testimony-client (GStreamer
    // 1.22) offers only the HMAC profile.
    const profiles = fs.readFileSync(relay.logPath, 'utf8').split('\n')
      .filter((l) => l.includes('publishes (SRTP'));
    log('figures: ' + profiles.map((l) => l.replace(/^.*: /, '')).join('; '));
    check(profiles.some((l) => l.includes('AEAD_AES_128_GCM')),
          'a browser participant negotiated SRTP AEAD_AES_128_GCM');
  } catch (e) {
    check(false, 'test step: ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
  } finally {
    for (const c of contexts)
      await c.close().catch(() => {});
    if (witness)
      await witness.stop();
    await stopAll();
    if (failures.length) {
      try {
        log('--- relay log (end) ---\n' + fs.readFileSync(relay.logPath, 'utf8').slice(-3000));
        if (witness)
          log('--- witness client log ---\n' + fs.readFileSync(witness.logPath, 'utf8').slice(-2000));
      } catch (e) { /* nothing to show */ }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  console.log(`FAILED the test did not finish within ${TOTAL_MS / 1000} s`);
  for (const p of started)
    if (p.exitCode === null)
      p.kill('SIGKILL');
  process.exit(1);
}, TOTAL_MS);

const t0 = Date.now();
await main();
clearTimeout(watchdog);
report(t0);
