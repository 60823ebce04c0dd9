// app.js — the court's web application: join page, camera and microphone check, waiting slate
// and the hearing, by role. It follows docs/protocol.md; the relay enforces every decision (who
// is admitted, who sees whom, who may press what) and this page only shows it.
import { t, roleName, setLanguage, initialLanguage, language, onLanguage } from './i18n.js';
import { Signalling, relaySocketUrl } from './signalling.js';
import { Peers, iceServersFrom } from './peers.js';
import { openDevices, levelMeter, stopDevices, listDevices, chosenDevice, chooseDevice,
         deviceOf } from './devices.js';
import * as views from './views.js';
import { isStaff } from './policy.js';

const $ = (id) => document.getElementById(id);

/* Codes after which the session is over: the page shows the sentence and stops. */
const FATAL = new Set(['bad-token', 'token-expired', 'token-not-yet-valid', 'wrong-hearing',
  'hearing-full', 'token-in-use', 'token-revoked', 'hearing-locked', 'hearing-ended', 'refused',
  'removed', 'too-large', 'rate-limited']);

const s = {
  token: null,
  claims: null,        // the token's payload, decoded for display only (never trusted)
  me: null,            // {id, name, role, state, ...} as the relay's `joined` says
  title: '',
  participants: new Map(),
  displayed: new Map(),  // feed id -> whether the relay was told its picture is shown
  streams: new Map(),  // feed id -> MediaStream received
  links: new Map(),    // participant id -> link quality
  waiting: [],
  protection: {},
  visibility: {},      // viewer id -> [source ids] whose picture the relay sends them now
  locked: false,
  recording: { state: 'stopped', since: 0, pausedAt: 0, pausedTotal: 0 },
  marks: [],
  stream: null,        // our camera and microphone
  micOn: true,
  camOn: true,
  relayMuted: { audio: false, video: false },
  unmuteAsked: false,
  over: false,         // the session ended (error, removed, ended, left)
  lang: 'en',
};

let signalling = null;
let peers = null;
let stopMeter = () => {};
const pendingMark = [];  // marker texts sent, awaiting the relay's `done`

/* ---- token ---- */

function tokenFromText(text) {
  const m = /(?:^|[#&?])token=([^&\s]+)/.exec(text);
  return (m ? decodeURIComponent(m[1]) : text).trim();
}

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(escape(atob(part)));
    const c = JSON.parse(json);
    return typeof c === 'object' && c ? c : null;
  } catch (e) {
    return null;
  }
}

/* ---- the device check ---- */

async function startCheck() {
  views.showView('check');
  s.claims = decodeClaims(s.token);
  const known = s.claims && typeof s.claims.name === 'string' && typeof s.claims.role === 'string';
  $('check-who').textContent = known ? t('check.who', { name: s.claims.name,
                                                        role: roleName(s.claims.role) })
                                     : t('check.whoUnknown');
  $('check-error').hidden = true;
  $('retry-devices').hidden = true;
  $('join-nomedia').hidden = true;
  $('join-button').disabled = true;
  $('device-pick').hidden = true;
  if (s.claims && s.claims.role === 'observer') {
    $('check-state').textContent = t('check.observer');
    document.querySelector('.selfview-box').hidden = true;
    $('level').hidden = true;
    $('join-button').disabled = false;
    return;
  }
  $('check-state').textContent = t('check.asking');
  stopDevices(s.stream);
  s.stream = null;
  try {
    s.stream = await openDevices({ videoinput: chosenDevice('videoinput'),
                                   audioinput: chosenDevice('audioinput') });
  } catch (e) {
    $('check-state').textContent = '';
    $('check-error-text').textContent = t('device.' + e.kind, { detail: e.detail || '' });
    $('check-error-help').textContent = t('device.' + e.kind + 'Help');
    $('check-error').hidden = false;
    $('check-error').dataset.kind = e.kind;
    document.querySelector('.selfview-box').hidden = true;
    $('retry-devices').hidden = false;
    $('join-nomedia').hidden = false;
    return;
  }
  document.querySelector('.selfview-box').hidden = false;
  $('selfview').srcObject = s.stream;
  $('check-state').textContent = t('check.ready');
  $('join-button').disabled = false;
  fillDevicePicker().catch(() => {});  // without a list, the browser's default stays
  stopMeter();
  stopMeter = levelMeter(s.stream, (level) => {
    $('level').value = level;
    $('level-text').textContent = level > 0.15 ? t('check.levelOk') : t('check.levelSilent');
  });
}

/* The camera and microphone choosers: every device the browser offers, the one in use
   selected. Hidden when there is nothing to choose between. */
async function fillDevicePicker() {
  const devices = await listDevices();
  const fill = (select, list, kind, trackKind, key) => {
    const using = deviceOf(s.stream, trackKind);
    select.replaceChildren(...list.map((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || t(key, { n: i + 1 });
      o.selected = d.deviceId === using;
      return o;
    }));
    select.dataset.kind = kind;
  };
  fill($('camera-select'), devices.videoinput, 'videoinput', 'video', 'check.cameraN');
  fill($('mic-select'), devices.audioinput, 'audioinput', 'audio', 'check.microphoneN');
  $('device-pick').hidden = devices.videoinput.length + devices.audioinput.length === 0;
}

/* A camera or microphone chosen: remembered in this browser, and the check starts again with
   it. */
function onDeviceChosen(ev) {
  chooseDevice(ev.target.dataset.kind, ev.target.value);
  startCheck();
}

/* ---- joining ---- */

/* The session dropped after the join: the relay keeps our place for its grace period (60 s).
 * Connect again with the same token and the place's secret; the media connections are made
 * anew once the relay says the place continues. */
function reconnect() {
  if (s.over)
    return;
  const limit = (s.grace + 10) * 1000;
  if (Date.now() - s.lostAt > limit) {
    end(t('error.title'), t('code.lost'), t('error.callCourt'), 'connection-lost');
    return;
  }
  if (peers)
    peers.closeAll();
  s.attempt = (s.attempt || 0) + 1;
  join(true);
}

function scheduleReconnect() {
  const delay = Math.min(500 * 2 ** Math.min(s.attempt || 0, 8), 4000);
  setTimeout(reconnect, delay);
}

function join(again = false) {
  stopMeter();
  if (!again)
    views.showMessage(t('connecting.title'), t('connecting.text'));
  signalling = new Signalling(relaySocketUrl());
  peers = new Peers(signalling, {
    onTrack: (feed, stream) => {
      s.streams.set(feed, stream);
      playAudio(feed, stream);
      render();
    },
    onPublishState: (state) => {
      if (state === 'failed' && s.me && !s.reconnectingSince) {
        views.notice(t('code.connection-failed'), true);
        republish();
      }
    },
    onFeedState: () => {},
  });
  signalling
    .on('open', () => signalling.send(again && s.resume
      ? { type: 'join', token: s.token, resume: s.resume }
      : { type: 'join', token: s.token }))
    .on('joined', onJoined)
    .on('state', (m) => {
      s.me.state = m.state;
      if (m.title)
        s.title = m.title;
      views.notice(m.state === 'admitted' ? t('notice.admitted') : t('notice.toWaiting'));
      render();
    })
    .on('participant-joined', (m) => {
      addParticipant(m.participant);
      render();
    })
    .on('participant-state', (m) => {
      if (m.participant && m.participant.id === s.me.id) {
        Object.assign(s.me, m.participant);  // our own state, audio, video
        render();
        return;
      }
      const old = s.participants.get(m.participant.id);
      s.participants.set(m.participant.id, { ...old, ...m.participant });
      if (old && old.connection !== m.participant.connection && isStaff(s.me.role))
        views.notice(t(m.participant.connection === 'reconnecting' ? 'notice.away' : 'notice.back',
                       { name: m.participant.name }));
      if (m.participant.publishing)
        peers.subscribe(m.participant.id);
      render();
    })
    .on('participant-published', (m) => {
      if (m.id === s.me.id) {
        s.me.publishing = true;
        render();
        return;
      }
      const p = s.participants.get(m.id);
      if (p)
        p.publishing = true;
      peers.subscribe(m.id);
      render();
    })
    .on('participant-left', (m) => {
      const p = s.participants.get(m.id);
      s.participants.delete(m.id);
      s.streams.delete(m.id);
      s.links.delete(m.id);
      peers.unsubscribe(m.id, false);
      removeAudio(m.id);
      if (p && isStaff(s.me.role))
        views.notice(t('notice.left', { name: p.name }));
      render();
    })
    .on('answer', (m) => peers.onAnswer(m))
    .on('candidate', (m) => peers.onCandidate(m))
    .on('waiting', (m) => {
      const before = new Set(s.waiting.map((w) => w.id));
      s.waiting = Array.isArray(m.participants) ? m.participants : [];
      const arrived = s.waiting.filter((w) => !before.has(w.id));
      if (arrived.length)
        views.notice(arrived.map((w) => t('notice.waitingNew',
                                          { name: w.name, role: roleName(w.role) })).join(' '));
      render();
    })
    .on('muted', (m) => {
      const track = m.track === 'video' ? 'video' : 'audio';
      s.relayMuted[track] = !!m.muted;
      if (!m.muted && track === 'audio')
        s.unmuteAsked = false;
      views.notice(t(`notice.${m.muted ? 'muted' : 'unmuted'}${track === 'audio' ? 'Audio' : 'Video'}`),
                   true);
      render();
    })
    .on('unmute-request', () => {
      s.unmuteAsked = true;
      views.notice(t('notice.unmuteRequest'), true);
      render();
    })
    .on('visibility', (m) => {
      s.visibility = m.sees || {};
      render();
    })
    .on('protection', (m) => {
      s.protection = m.measures || {};
      if (isStaff(s.me.role))
        views.notice(t(s.protection['screen-witness'] ? 'notice.protectionOn'
                                                      : 'notice.protectionOff'));
      render();
    })
    .on('repair', (m) => peers.onRepair(m).catch(() => {}))
    .on('link-quality', (m) => {
      for (const l of m.participants || [])
        s.links.set(l.id, l);
      render();
    })
    .on('recording', onRecording)
    .on('hearing-ended', () => end(t('error.ended'), t('code.hearing-ended'), ''))
    .on('shutdown', () => {
      /* The relay is stopping (docs/operations.md): the hearing has not ended; the page joins
       * again when the relay is back. */
      s.relayStopping = true;
      views.notice(t('notice.relayStopping'), true);
    })
    .on('done', onDone)
    .on('error', onError)
    .on('pong', () => {})
    .on('status', () => {})
    .on('close', (ev) => {
      if (s.over)
        return;
      if (s.resume && (s.reconnectingSince || (ev.opened && !ev.byUs))) {
        if (!s.reconnectingSince) {
          s.reconnectingSince = Date.now();
          s.lostAt = Date.now();
          s.attempt = 0;
          views.notice(t(s.relayStopping ? 'notice.relayStopping' : 'notice.reconnecting'), true);
        }
        scheduleReconnect();
        return;
      }
      end(t('error.title'), ev.opened ? t('code.lost') : t('code.network'), t('error.callCourt'),
          ev.opened ? 'closed-' + ev.code : 'unreachable');
    });
  signalling.connect();
}

/* The publish connection again, after it failed (the relay or the browser gave it up). */
function republish() {
  if (!s.stream || !peers)
    return;
  if (peers.publisher)
    peers.publisher.close();
  peers.publisher = null;
  peers.publish(s.stream).catch((e) => views.notice(t('code.bad-sdp') + ' ' + e, true));
}

function onJoined(m) {
  peers.iceServers = iceServersFrom(m.iceServers);
  s.displayed = new Map();  // a new session: the relay is told again (tellDisplay)
  s.resume = m.resume || null;
  s.grace = m.grace || 0;
  s.relayStopping = false;
  if (s.reconnectingSince) {
    s.reconnectingSince = 0;
    s.reconnections = (s.reconnections || 0) + (m.resumed ? 1 : 0);
    s.attempt = 0;
    s.participants.clear();
    s.streams.clear();
    for (const a of document.querySelectorAll('audio.remote'))
      a.remove();
    views.notice(t(m.resumed ? 'notice.reconnected' : 'notice.rejoined'));
  }
  s.me = { id: m.id, name: m.name, role: m.role, state: m.state || 'admitted', publishing: false,
           audio: 'on', video: 'on' };
  s.title = m.title || '';
  s.locked = !!m.locked;
  s.protection = m.protection || {};
  s.recording.state = m.recording || 'stopped';
  for (const p of m.participants || [])
    addParticipant(p, true);
  views.setUpPanel(s.me.role);
  if (s.me.role === 'observer') {
    stopDevices(s.stream);  // observers never publish
    s.stream = null;
  }
  $('selfmini').srcObject = s.stream;
  if (s.stream) {
    s.me.publishing = true;
    peers.publish(s.stream).catch((e) => views.notice(t('code.bad-sdp') + ' ' + e, true));
  }
  if (isStaff(s.me.role))
    signalling.control('waiting');
  render();
}

function addParticipant(p, quiet = false) {
  if (!p || !p.id || p.id === s.me.id)
    return;
  s.participants.set(p.id, { state: 'admitted', audio: 'on', video: 'on', ...p });
  if (!quiet && isStaff(s.me.role))
    views.notice(t('notice.joined', { name: p.name, role: roleName(p.role) }));
  if (p.publishing)
    peers.subscribe(p.id);
}

function onRecording(m) {
  const r = s.recording;
  const now = Date.now() / 1000;
  if (m.state === 'recording' && r.state === 'paused' && r.pausedAt)
    r.pausedTotal += now - r.pausedAt;
  if (m.state === 'recording' && r.state === 'stopped')
    r.pausedTotal = 0;
  r.pausedAt = m.state === 'paused' ? now : 0;
  r.state = m.state;
  r.since = m.since || r.since;
  if (m.state === 'stopped' && m.path)
    views.notice(t('notice.stoppedPath', { path: m.path }));
  else
    views.notice(t('notice.' + m.state));
  render();
}

function onDone(m) {
  if (m.action === 'mark') {
    const text = pendingMark.shift() || '';
    s.marks.push({ time: new Date().toLocaleTimeString(s.lang), text });
    views.notice(t('notice.marked', { text }));
    views.renderMarks(s.marks);
  } else if (m.action === 'lock' || m.action === 'unlock') {
    s.locked = m.action === 'lock';
    views.notice(t(s.locked ? 'notice.locked' : 'notice.unlocked'));
    render();
  }
}

function codeSentence(code, message) {
  const key = 'code.' + code;
  const text = t(key, { message: message || code });
  return text === key ? t('code.unknown', { message: message || code }) : text;
}

function onError(m) {
  if (m.code === 'connection-failed' && m.ref === 'publish') {
    republish();
    return;
  }
  if (m.code === 'connection-failed' && m.ref) {
    peers.unsubscribe(m.ref, false);
    if ((s.participants.get(m.ref) || {}).publishing)
      peers.subscribe(m.ref);
    return;
  }
  if (m.ref === 'join' || FATAL.has(m.code)) {
    const title = m.code === 'hearing-ended' ? t('error.ended') : t('error.title');
    end(title, codeSentence(m.code, m.message), t('error.callCourt'), m.code);
    return;
  }
  if (m.ref === 'subscribe') {
    peers.onSubscribeRefused();
    return;  // a feed the policy does not give us: nothing for the person to do
  }
  views.notice(codeSentence(m.code, m.message), true);
  render();  // undo what the page showed ahead of the relay's answer
}

/* The session is over: show why, stop the camera, close everything. */
function end(title, text, help, code) {
  if (s.over)
    return;
  s.over = true;
  try {
    sessionStorage.removeItem('testimony.token');
  } catch (e) { /* ignore */ }
  if (peers)
    peers.closeAll();
  stopDevices(s.stream);
  stopMeter();
  if (signalling)
    signalling.close();
  for (const a of document.querySelectorAll('audio.remote'))
    a.remove();
  $('rec').hidden = true;
  views.showMessage(title, text, help, code);
}

/* ---- audio of every feed (also those without a tile) ---- */

function playAudio(feed, stream) {
  let a = document.querySelector(`audio[data-feed="${CSS.escape(feed)}"]`);
  if (!a) {
    a = document.createElement('audio');
    a.className = 'remote';
    a.dataset.feed = feed;
    a.autoplay = true;
    document.body.append(a);
  }
  if (a.srcObject !== stream)
    a.srcObject = stream;
}

function removeAudio(feed) {
  const a = document.querySelector(`audio[data-feed="${CSS.escape(feed)}"]`);
  if (a)
    a.remove();
}

/* ---- drawing ---- */

function render() {
  if (!s.me || s.over)
    return;
  s.lang = language();
  views.renderHeader(s);
  views.renderRecording(s.recording);
  if (s.me.state === 'waiting') {
    views.renderWaitingSlate(s);
    if (document.body.dataset.view !== 'waiting')
      views.showView('waiting');
    return;
  }
  if (document.body.dataset.view !== 'hearing') {
    views.showView('hearing');
    $('selfmini').play().catch(() => {});  // it was hidden while waiting
  }
  views.renderMe(s);
  views.renderTiles(s, actions);
  tellDisplay();
  if (isStaff(s.me.role)) {
    views.renderWaitingList(s, actions);
    views.renderMeasures(s);
  }
}

/* Tells the relay which pictures this screen shows (a tile each): it sends no video that is not
   shown, which leaves a slow link — the witness's, far away — to the pictures that are. Sound
   comes from everyone whatever is shown. */
function tellDisplay() {
  const shown = new Set([...$('tiles').children].map((li) => li.dataset.id));
  for (const p of s.participants.values()) {
    const video = shown.has(p.id);
    if (p.state === 'waiting' || s.displayed.get(p.id) === video)
      continue;
    s.displayed.set(p.id, video);
    signalling.send({ type: 'display', feed: p.id, video });
  }
}

/* What the buttons do: messages to the relay, which decides. */
const actions = {
  control(action, target) {
    signalling.control(action, target ? { target } : {});
  },
  confirm(text, okLabel, then) {
    const d = $('confirm');
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okLabel;
    d.returnValue = '';
    d.addEventListener('close', () => {
      if (d.returnValue === 'ok')
        then();
    }, { once: true });
    d.showModal();
  },
};

function setTrack(kind, on) {
  if (!s.stream)
    return;
  for (const tr of s.stream.getTracks())
    if (tr.kind === kind)
      tr.enabled = on;
}

function wireButtons() {
  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = tokenFromText($('token-field').value);
    if (!token)
      return;
    s.token = token;
    startCheck();
  });
  $('retry-devices').addEventListener('click', startCheck);
  $('camera-select').addEventListener('change', onDeviceChosen);
  $('mic-select').addEventListener('change', onDeviceChosen);
  $('join-button').addEventListener('click', join);
  $('join-nomedia').addEventListener('click', () => {
    stopDevices(s.stream);
    s.stream = null;
    join();
  });
  $('toggle-mic').addEventListener('click', () => {
    s.micOn = !s.micOn;
    setTrack('audio', s.micOn);
    render();
  });
  $('toggle-cam').addEventListener('click', () => {
    s.camOn = !s.camOn;
    setTrack('video', s.camOn);
    render();
  });
  $('relay-unmute').addEventListener('click', () => signalling.control('unmute'));
  $('relay-video-on').addEventListener('click', () => signalling.control('video-on'));
  $('leave').addEventListener('click', () => actions.confirm(t('me.leaveConfirm'), t('me.leave'), () => {
    signalling.send({ type: 'leave' });
    end(t('error.left'), t('error.leftText'), '', '');
  }));
  $('screen-witness').addEventListener('change', (ev) => {
    // The relay's `protection` message (or its refusal, which redraws) decides what shows.
    signalling.control('protect', { measure: 'screen-witness', on: ev.target.checked });
  });
  $('lock').addEventListener('click', () => signalling.control(s.locked ? 'unlock' : 'lock'));
  $('end').addEventListener('click', () => actions.confirm(t('judge.endConfirm'), t('judge.end'),
                                                           () => signalling.control('end')));
  $('rec-start').addEventListener('click', () => signalling.control('record', { op: 'start' }));
  $('rec-pause').addEventListener('click', () => signalling.control('record', { op: 'pause' }));
  $('rec-resume').addEventListener('click', () => signalling.control('record', { op: 'resume' }));
  $('rec-stop').addEventListener('click', () => actions.confirm(t('clerk.stopConfirm'), t('clerk.stop'),
    () => signalling.control('record', { op: 'stop' })));
  const mark = (text) => {
    pendingMark.push(text);
    signalling.control('mark', { text });
  };
  $('mark-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('mark-text').value.trim();
    if (text) {
      mark(text);
      $('mark-text').value = '';
    }
  });
  for (const key of ['clerk.quick1', 'clerk.quick2', 'clerk.quick3']) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.i18n = key;
    b.textContent = t(key);
    b.addEventListener('click', () => mark(t(key)));
    $('mark-quick').append(b);
  }
}

/* For the court's IT staff and the browser tests: what this page receives, read-only. */
window.testimony = {
  stats: async () => {
    const out = {};
    const st = peers ? await peers.stats() : {};
    for (const [id, v] of Object.entries(st)) {
      const p = s.participants.get(id);
      out[p ? p.name : id] = { id, role: p && p.role, ...v };
    }
    return out;
  },
  devices: () => ({ video: deviceOf(s.stream, 'video'), audio: deviceOf(s.stream, 'audio') }),
  path: () => (peers ? peers.path() : null),
  sending: () => (peers ? peers.sending() : null),
  restartIce: () => (peers ? peers.restartIce() : 0),
  state: () => ({ me: s.me, view: document.body.dataset.view,
                  participants: [...s.participants.values()], waiting: s.waiting,
                  recording: s.recording.state, reconnections: s.reconnections || 0,
                  iceRestarts: peers ? peers.iceRestarts() : 0 }),
};

function main() {
  setLanguage(initialLanguage());
  $('lang').value = language();
  $('lang').addEventListener('change', (ev) => setLanguage(ev.target.value));
  onLanguage(() => {
    render();
    if (document.body.dataset.view === 'check' && s.token)
      startCheckTexts();
  });
  wireButtons();
  setInterval(() => {
    if (s.me && isStaff(s.me.role) && !s.over)
      views.renderRecordingTime(s.recording);
  }, 1000);
  let token = tokenFromText(location.hash.slice(1).includes('token=') ? location.hash : '');
  // Keep the token out of the address bar (and of screenshots, bookmarks, shoulder-surfers),
  // but in this tab's session so that a reload rejoins.
  if (token) {
    history.replaceState(null, '', location.pathname + location.search);
    try {
      sessionStorage.setItem('testimony.token', token);
    } catch (e) { /* ignore */ }
  } else {
    try {
      token = sessionStorage.getItem('testimony.token') || '';
    } catch (e) { /* ignore */ }
  }
  if (token) {
    s.token = token;
    startCheck();
  } else {
    views.showView('join');
  }
}

/* Texts of the check page that depend on state (after a change of language). */
function startCheckTexts() {
  const c = s.claims;
  if (c && c.name && c.role)
    $('check-who').textContent = t('check.who', { name: c.name, role: roleName(c.role) });
  const kind = $('check-error').hidden ? null : $('check-error').dataset.kind;
  if (kind) {
    $('check-error-text').textContent = t('device.' + kind, { detail: '' });
    $('check-error-help').textContent = t('device.' + kind + 'Help');
  } else if (s.stream) {
    $('check-state').textContent = t('check.ready');
    fillDevicePicker().catch(() => {});  // unnamed devices are numbered in the language
  }
}

main();
