// lib.mjs — what the browser tests share: checks, bounded waits, the relay and the thin client
// (testimony-client) started as child processes and stopped by PID, page statistics.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
const RELAY = process.env.TESTIMONY_RELAY || 'testimony-relay';
const CLIENT = process.env.TESTIMONY_CLIENT || 'testimony-client';
const PIPELINES = process.env.TESTIMONY_PIPELINES || path.join(root, 'pipelines');
const WEB = process.env.TESTIMONY_WEB || path.join(root, 'web');

/* ---- checks ---- */

export const failures = [];
export function check(cond, what) {
  console.log((cond ? 'ok     ' : 'FAILED ') + what);
  if (!cond)
    failures.push(what);
  return cond;
}
export const log = (...a) => console.log(...a);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Polls FN until it returns a truthy value or TIMEOUT ms pass; returns the last value. */
export async function until(fn, timeout, every = 250) {
  const end = Date.now() + timeout;
  let v;
  for (;;) {
    try {
      v = await fn();
    } catch (e) {
      v = null;
    }
    if (v || Date.now() > end)
      return v;
    await sleep(every);
  }
}

/* ---- the relay and the thin client ---- */

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export const started = [];  // child processes we started, stopped by PID at the end

export function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

export class Relay {
  async start(dir, extraArgs = []) {
    this.dir = dir;
    this.state = path.join(dir, 'state');
    this.port = await freePort();
    this.url = `https://127.0.0.1:${this.port}`;
    run(RELAY, ['hearing', 'create', '--state-dir', this.state, '--id', 'h1', '--case',
                'BK-2026-117', '--title', 'Hearing of case BK-2026-117']);  // waiting room: on
    this.logPath = path.join(dir, 'relay.log');
    const out = fs.openSync(this.logPath, 'w');
    this.proc = spawn(RELAY, ['--state-dir', this.state, '--listen', `127.0.0.1:${this.port}`,
                              '--media-address', '127.0.0.1', '--ports', '30000-30999',
                              '--web-dir', WEB, ...extraArgs], { stdio: ['ignore', out, out] });
    started.push(this.proc);
    this.ca = path.join(this.state, 'tls', 'cert.pem');
    const up = await until(() => new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    }), 10_000, 100);
    if (!up)
      throw new Error('relay did not start:\n' + fs.readFileSync(this.logPath, 'utf8'));
  }

  token(role, name) {
    return run(RELAY, ['token', '--state-dir', this.state, '--hearing', 'h1', '--role', role,
                       '--name', name, '--ttl', '3600']);
  }
}

export class Client {
  constructor(relay, token, name, color, tone, duration) {
    this.report = path.join(relay.dir, `report-${name}.jsonl`);
    this.logPath = path.join(relay.dir, `client-${name}.log`);
    const out = fs.openSync(this.logPath, 'w');
    this.proc = spawn(CLIENT, ['--relay', relay.url, '--token', token, '--ca', relay.ca,
                               '--headless', '--report', this.report, '--duration', String(duration),
                               '--pipelines', PIPELINES, '--test-source',
                               `color=${color},tone=${tone}`], { stdio: ['ignore', out, out] });
    started.push(this.proc);
  }

  last() {
    try {
      const lines = fs.readFileSync(this.report, 'utf8').trim().split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        try {
          return JSON.parse(lines[i]);
        } catch (e) { /* a line being written */ }
      }
    } catch (e) { /* no report yet */ }
    return null;
  }

  remote(name) {
    const r = this.last();
    return r && (r.remotes || []).find((x) => x.name === name);
  }

  async stop() {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');  // leaves the hearing
      await until(() => this.proc.exitCode !== null, 5000, 100);
    }
  }
}


/* Stops everything we started, by PID: SIGTERM, then SIGKILL after 10 s. */
export async function stopAll() {
  for (const p of started)
    if (p.exitCode === null)
      p.kill('SIGTERM');
  await until(() => started.every((p) => p.exitCode !== null), 10_000, 100);
  for (const p of started)
    if (p.exitCode === null)
      p.kill('SIGKILL');
}

export function report(t0) {
  log(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (failures.length) {
    log(`${failures.length} check(s) failed:`);
    for (const f of failures)
      log('  - ' + f);
    process.exit(1);
  }
  log('all checks passed');
  process.exit(0);
}

export async function statsOf(page, name) {
  const all = await page.evaluate(() => window.testimony.stats());
  return all[name] || null;
}

export async function framesOf(page, name) {
  const s = await statsOf(page, name).catch(() => null);
  return s ? s.framesDecoded : 0;
}

export const CHROMIUM = [process.env.CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium']
  .find((p) => p && fs.existsSync(p));

/* ---- Chromium ---- */

const BASE_FLAGS = ['--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection',
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/* Playwright passes its own --disable-features list, and Chromium honours only the last
   --disable-features flag. So we find Playwright's (from a first, empty launch's command line),
   leave it out, and pass ONE flag with its features and ours. */
let playwrightDisable = null;
async function playwrightDisabledFeatures(chromium, tmp) {
  if (playwrightDisable !== null)
    return playwrightDisable;
  const dir = fs.mkdtempSync(path.join(tmp, 'probe-profile-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM,
                                                            headless: true, args: BASE_FLAGS });
  let flag = '';
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv;
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch (e) {
      continue;
    }
    if (argv.some((a) => a === `--user-data-dir=${dir}`) && !argv.some((a) => a.startsWith('--type='))) {
      flag = argv.find((a) => a.startsWith('--disable-features=')) || '';
      break;
    }
  }
  await ctx.close();
  playwrightDisable = flag;
  return flag;
}

/* A Chromium with a fresh profile in TMP; EXECUTABLE (default CHROMIUM) may be a wrapper that
   starts it elsewhere (in another network namespace); EXTRAARGS are more flags. */
export async function launch(chromium, tmp, name,
                             { y4m = null, fakeUi = true, denyPrompts = false,
                               executable = CHROMIUM, extraArgs = [] } = {}) {
  const theirs = await playwrightDisabledFeatures(chromium, tmp);
  const features = new Set(theirs.replace('--disable-features=', '').split(',').filter(Boolean));
  features.add('WebRtcHideLocalIpsWithMdns');
  const args = [...BASE_FLAGS, `--disable-features=${[...features].join(',')}`, ...extraArgs];
  if (fakeUi)
    args.push('--use-fake-ui-for-media-stream');
  if (denyPrompts)
    args.push('--deny-permission-prompts');
  if (y4m)
    args.push(`--use-file-for-fake-video-capture=${y4m}`);
  const profile = fs.mkdtempSync(path.join(tmp, `profile-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: executable,
    headless: true,
    args,
    ignoreDefaultArgs: theirs ? [theirs] : [],
    ignoreHTTPSErrors: true,  // the relay's self-signed certificate (pages, WebSocket)
    viewport: { width: 1280, height: 860 },
    locale: 'en-GB',
    timeout: 30_000,
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      log(`[${name} console] ${m.text()}`);
  });
  page.on('pageerror', (e) => log(`[${name} page error] ${e.message}`));
  return { context, page };
}
