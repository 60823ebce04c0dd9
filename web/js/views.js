// views.js — drawing the pages from the hearing's state. No signalling here: buttons call the
// actions object that app.js passes in. Everything a person reads comes from i18n.
import { t, roleName } from './i18n.js';
import { isStaff } from './policy.js';

const $ = (id) => document.getElementById(id);

const VIEWS = ['join', 'check', 'message', 'waiting', 'hearing'];

export function showView(name) {
  for (const v of VIEWS)
    $('view-' + v).hidden = v !== name;
  document.body.dataset.view = name;
  // Move focus to the new view's heading so keyboard and screen-reader users start there.
  const h = $('view-' + name).querySelector('h1');
  if (h) {
    h.tabIndex = -1;
    h.focus({ preventScroll: true });
  }
}

/* One notice at a time, in the live region (screen readers read it) and on screen. */
let noticeTimer = null;
export function notice(text, urgent = false) {
  const el = $('notice');
  el.textContent = text;
  el.hidden = false;
  el.classList.toggle('urgent', urgent);
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.hidden = true; }, 12000);
}

export function showMessage(title, text, help = '', code = '') {
  $('message-h').textContent = title;
  $('message-text').textContent = text;
  $('message-help').textContent = help;
  $('message-code').textContent = code ? t('error.code', { code }) : '';
  showView('message');
}

/* ---- recording indicator (everyone) and clerk's box ---- */

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

export function renderRecording(rec) {
  const on = rec.state === 'recording' || rec.state === 'paused';
  $('rec').hidden = !on;
  $('rec').classList.toggle('paused', rec.state === 'paused');
  $('rec-text').textContent = t('rec.' + rec.state);
  $('rec-status').textContent = t('rec.' + rec.state);
  $('rec-start').hidden = on;
  $('rec-pause').hidden = rec.state !== 'recording';
  $('rec-resume').hidden = rec.state !== 'paused';
  $('rec-stop').hidden = !on;
  for (const el of $('mark-form').elements)
    el.disabled = !on;
  for (const el of $('mark-quick').children)
    el.disabled = !on;
  renderRecordingTime(rec);
}

export function renderRecordingTime(rec) {
  if (rec.state === 'stopped' || !rec.since) {
    $('rec-time').textContent = '';
    return;
  }
  const now = rec.state === 'paused' && rec.pausedAt ? rec.pausedAt : Date.now() / 1000;
  $('rec-time').textContent = t('clerk.elapsed',
                                { time: formatDuration(now - rec.since - rec.pausedTotal) });
}

export function renderMarks(marks) {
  const ol = $('marks');
  ol.replaceChildren(...marks.map((m) => {
    const li = document.createElement('li');
    li.textContent = `${m.time} — ${m.text}`;
    return li;
  }));
}

/* ---- my own microphone and camera ---- */

export function renderMe(s) {
  const me = s.me;
  const hasAudio = s.stream && s.stream.getAudioTracks().length > 0;
  const hasVideo = s.stream && s.stream.getVideoTracks().length > 0;
  let mic, cam;
  if (!hasAudio && !hasVideo) {
    mic = t('me.noMedia');
    cam = '';
  } else {
    mic = s.relayMuted.audio ? t('me.micMutedByCourt') : s.micOn ? t('me.micOn') : t('me.micOff');
    cam = s.relayMuted.video ? t('me.camOffByCourt') : s.camOn ? t('me.camOn') : t('me.camOff');
  }
  $('my-mic').textContent = mic;
  $('my-cam').textContent = cam;
  $('my-mic').classList.toggle('off', !s.micOn || s.relayMuted.audio);
  $('my-cam').classList.toggle('off', !s.camOn || s.relayMuted.video);
  // The witness gets no switches to press by mistake: only the plain state above.
  const switches = me.role !== 'witness' && (hasAudio || hasVideo);
  $('my-controls').hidden = !switches;
  $('toggle-mic').textContent = s.micOn ? t('me.muteMic') : t('me.unmuteMic');
  $('toggle-mic').setAttribute('aria-pressed', String(!s.micOn));
  $('toggle-cam').textContent = s.camOn ? t('me.camOffButton') : t('me.camOnButton');
  $('toggle-cam').setAttribute('aria-pressed', String(!s.camOn));
  // Lifting the court's mute: everyone may; a witness sees the button only when the judge asks.
  $('relay-unmute').hidden = !s.relayMuted.audio || (me.role === 'witness' && !s.unmuteAsked);
  $('relay-video-on').hidden = !s.relayMuted.video || me.role === 'witness';
  $('selfmini').hidden = !hasVideo;
}

/* ---- tiles ---- */

function quality(link) {
  if (!link || (!link.rtt_ms && !link.bitrate_kbps))
    return { level: 'unknown', text: t('quality.unknown') };
  const lossPct = (link.loss || 0) * 100;
  const level = lossPct > 10 || link.rtt_ms > 400 ? 'poor'
              : lossPct > 2 || link.rtt_ms > 150 ? 'fair' : 'good';
  const detail = t('quality.detail', { rtt: Math.round(link.rtt_ms || 0),
                                      loss: lossPct.toFixed(1), kbps: link.bitrate_kbps || 0 });
  return { level, text: `${t('quality.' + level)} (${detail})` };
}

function button(label, accessibleName, onClick, cls = '') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (accessibleName !== label)
    b.setAttribute('aria-label', accessibleName);
  if (cls)
    b.className = cls;
  b.addEventListener('click', onClick);
  return b;
}

function tileControls(p, actions) {
  const n = { name: p.name };
  const out = [];
  if (p.audio === 'muted')
    out.push(button(t('judge.askUnmute'), t('judge.askUnmuteName', n),
                    () => actions.control('unmute-request', p.id)));
  else
    out.push(button(t('judge.mute'), t('judge.muteName', n), () => actions.control('mute', p.id)));
  if (p.video !== 'off')
    out.push(button(t('judge.videoOff'), t('judge.videoOffName', n),
                    () => actions.control('video-off', p.id)));
  if (p.state === 'admitted' && p.role !== 'judge')
    out.push(button(t('judge.toWaiting'), t('judge.toWaitingName', n),
                    () => actions.control('to-waiting', p.id)));
  out.push(button(t('judge.remove'), t('judge.removeName', n),
                  () => actions.confirm(t('judge.removeConfirm', n), t('judge.remove'),
                                        () => actions.control('remove', p.id)), 'danger'));
  return out;
}

/* Creates or updates one tile per participant shown; removes the others. */
export function renderTiles(s, actions) {
  const ul = $('tiles');
  const staff = isStaff(s.me.role);
  // The witness's page shows only the judge and the interpreter, whatever else the relay may
  // send (a calm screen); everyone else sees a tile for each picture the relay says it sends
  // them (its `visibility` message: the relay decides, the page only follows). All are heard.
  // Someone in the waiting room has no tile: the judge and clerk find them once, in the waiting
  // list (renderWaitingList), with the buttons to admit or refuse them.
  const witness = s.me.role === 'witness';
  const sent = new Set(s.visibility[s.me.id] || []);
  const shown = [...s.participants.values()].filter((p) => p.state !== 'waiting' &&
    (staff ? true : sent.has(p.id) && (!witness || p.role === 'judge' || p.role === 'interpreter')));
  // The witness sees the judge first, then the interpreter (docs: large, calm, simple).
  const order = { judge: 0, interpreter: 1 };
  shown.sort((a, b) => (order[a.role] ?? 2) - (order[b.role] ?? 2));
  const keep = new Set(shown.map((p) => p.id));
  for (const li of [...ul.children])
    if (!keep.has(li.dataset.id))
      li.remove();
  for (const p of shown) {
    let li = ul.querySelector(`li[data-id="${CSS.escape(p.id)}"]`);
    if (!li) {
      li = $('tile-template').content.firstElementChild.cloneNode(true);
      li.dataset.id = p.id;
      ul.append(li);
    }
    ul.append(li);  // keeps the order
    fillTile(li, p, s, actions, staff);
  }
  ul.dataset.count = String(shown.length);
  $('tiles').classList.toggle('empty', shown.length === 0);
  // Audio of participants whose tile is not shown still plays (everyone hears the witness, and
  // the witness hears everyone): app.js keeps their streams in hidden audio elements.
}

function fillTile(li, p, s, actions, staff) {
  li.querySelector('.tile-name').textContent =
    p.name + (p.id === s.me.id ? ' ' + t('judge.you') : '');
  li.querySelector('.tile-role').textContent = roleName(p.role);
  const notes = [];
  if (p.connection === 'reconnecting')
    notes.push(t('hearing.reconnecting'));
  if (p.audio === 'muted')
    notes.push(t('hearing.muted'));
  if (p.video === 'off')
    notes.push(t('hearing.videoOff'));
  li.querySelector('.tile-state').textContent = notes.join(' · ');
  const video = li.querySelector('video');
  const stream = s.streams.get(p.id);
  if (stream && video.srcObject !== stream)
    video.srcObject = stream;
  const noVideo = !stream || p.video === 'off' || p.state === 'waiting' || !p.publishing;
  video.hidden = noVideo;
  const nv = li.querySelector('.tile-novideo');
  nv.hidden = !noVideo;
  nv.textContent = p.publishing && p.state !== 'waiting' && p.video !== 'off' ?
    t('hearing.connecting') : t('hearing.noPicture');
  video.setAttribute('aria-label', p.name);
  const q = li.querySelector('.quality');
  q.hidden = !staff;
  if (staff) {
    const { level, text } = quality(s.links.get(p.id));
    q.dataset.level = level;
    q.querySelector('.quality-text').textContent = text;
  }
  const controls = li.querySelector('.tile-controls');
  const judge = s.me.role === 'judge';
  controls.hidden = !judge;
  if (judge) {
    // Rebuild only when something the buttons depend on changed, so focus is not lost.
    const key = [p.audio, p.video, p.state, s.lang].join();
    if (controls.dataset.key !== key) {
      const hadFocus = controls.contains(document.activeElement);
      controls.replaceChildren(...tileControls(p, actions));
      controls.dataset.key = key;
      if (hadFocus)
        controls.firstElementChild.focus();
    }
  }
}

/* ---- judge's and clerk's panel ---- */

export function renderWaitingList(s, actions) {
  const ul = $('waiting-list');
  const focusedId = ul.contains(document.activeElement) ?
    document.activeElement.closest('li').dataset.id : null;
  ul.replaceChildren(...s.waiting.map((w) => {
    const li = document.createElement('li');
    li.dataset.id = w.id;
    const who = document.createElement('p');
    who.className = 'tile-name';
    who.textContent = `${w.name} — ${roleName(w.role)}`;
    const when = document.createElement('p');
    when.className = 'small';
    const since = w.since ? new Date(w.since * 1000).toLocaleTimeString(s.lang) : '';
    const q = quality(w.link);
    when.textContent = [since && t('judge.waitingSince', { time: since }), q.text]
      .filter(Boolean).join(' · ');
    const row = document.createElement('div');
    row.className = 'row';
    const n = { name: w.name };
    row.append(button(t('judge.admit'), t('judge.admitName', n),
                      () => actions.control('admit', w.id), 'primary'),
               button(t('judge.refuse'), t('judge.refuseName', n),
                      () => actions.confirm(t('judge.refuseConfirm', n), t('judge.refuse'),
                                            () => actions.control('refuse', w.id))));
    li.append(who, when, row);
    return li;
  }));
  $('wait-empty').hidden = s.waiting.length > 0;
  // The focused entry went away (admitted): keep the keyboard user in the list.
  if (focusedId && !s.waiting.some((w) => w.id === focusedId)) {
    const next = ul.querySelector('button') || $('wait-h');
    next.tabIndex = next.tabIndex < 0 ? -1 : next.tabIndex;
    next.focus();
  }
}

export function renderMeasures(s) {
  const judge = s.me.role === 'judge';
  const box = $('screen-witness');
  box.checked = !!s.protection['screen-witness'];
  box.disabled = !judge;
  $('hearing-controls').hidden = !judge;
  $('lock').textContent = s.locked ? t('judge.unlock') : t('judge.lock');
  $('lock').setAttribute('aria-pressed', String(!!s.locked));
  const everyone = [s.me, ...s.participants.values()];
  const byId = new Map(everyone.map((p) => [p.id, p]));
  const table = everyone.map((participant) => ({
    participant,
    sees: (s.visibility[participant.id] || []).map((id) => byId.get(id)).filter(Boolean),
  }));
  $('sees-body').replaceChildren(...table.map(({ participant, sees }) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = `${participant.name} (${roleName(participant.role)})`;
    const td = document.createElement('td');
    td.textContent = participant.state === 'waiting' ? t('judge.seesWaiting')
      : sees.length ? sees.map((p) => p.name).join(', ') : t('judge.seesNobody');
    tr.append(th, td);
    return tr;
  }));
}

export function renderHeader(s) {
  $('hearing-title').textContent = s.title || '';
}

export function renderWaitingSlate(s) {
  $('waiting-h').textContent = s.title || t('waiting.hearing');
  $('waiting-me').textContent = s.me ? t('waiting.me', { name: s.me.name, role: roleName(s.me.role) })
                                     : '';
}

/* Builds the panel for judge and clerk once, after the join. */
export function setUpPanel(role) {
  const staff = isStaff(role);
  $('panel').hidden = !staff;
  // Recording and markers: what the relay lets judges and clerks do (relay/engine/court.c).
  $('clerk-box').hidden = !staff;
  $('judge-box').hidden = !staff;
  document.body.dataset.role = role;
}
