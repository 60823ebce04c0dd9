// devices.js — the camera and microphone: choosing and opening them, the level meter, and
// turning the browser's error into one of our error kinds (each has a sentence and a "how to
// fix" in i18n).

/* Where the choice of camera and microphone is remembered (this browser, this court's site). */
const CHOICE_KEYS = { videoinput: 'testimony.camera', audioinput: 'testimony.microphone' };

/* The device id chosen before for KIND ('videoinput' or 'audioinput'), or ''. */
export function chosenDevice(kind) {
  try {
    return localStorage.getItem(CHOICE_KEYS[kind]) || '';
  } catch (e) {
    return '';  // storage may be disabled
  }
}

/* Remembers ID as the choice for KIND ('' forgets it). */
export function chooseDevice(kind, id) {
  try {
    if (id)
      localStorage.setItem(CHOICE_KEYS[kind], id);
    else
      localStorage.removeItem(CHOICE_KEYS[kind]);
  } catch (e) { /* storage may be disabled: the choice lasts until the page closes */ }
}

/* The cameras and microphones the browser offers ({deviceId, label} each; labels are empty
   until the person has allowed the page to use them). */
export async function listDevices() {
  const all = navigator.mediaDevices && navigator.mediaDevices.enumerateDevices
    ? await navigator.mediaDevices.enumerateDevices() : [];
  const of = (kind) => all.filter((d) => d.kind === kind && d.deviceId)
    .map((d) => ({ deviceId: d.deviceId, label: d.label }));
  return { videoinput: of('videoinput'), audioinput: of('audioinput') };
}

/* Opens the camera and microphone: the ones chosen (device ids in CHOICE, {videoinput,
   audioinput}), else the browser's default. A chosen device that is gone is forgotten and the
   default is used. */
export async function openDevices(choice = {}) {
  if (!window.isSecureContext)
    throw { kind: 'insecure' };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.RTCPeerConnection)
    throw { kind: 'unsupported' };
  const constraints = (c) => ({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true,
             ...(c.audioinput ? { deviceId: { exact: c.audioinput } } : {}) },
    video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 },
             ...(c.videoinput ? { deviceId: { exact: c.videoinput } } : {}) },
  });
  try {
    return await navigator.mediaDevices.getUserMedia(constraints(choice));
  } catch (e) {
    const chosen = choice.videoinput || choice.audioinput;
    if (chosen && (e.name === 'OverconstrainedError' || e.name === 'NotFoundError')) {
      chooseDevice('videoinput', '');
      chooseDevice('audioinput', '');
      return openDevices({});
    }
    throw { kind: errorKind(e), detail: e && e.name ? e.name : String(e) };
  }
}

/* The device id STREAM's track of KIND ('video' or 'audio') comes from, or ''. */
export function deviceOf(stream, kind) {
  const track = stream && stream.getTracks().find((tr) => tr.kind === kind);
  const settings = track && track.getSettings ? track.getSettings() : {};
  return settings.deviceId || '';
}

export function errorKind(e) {
  switch (e && e.name) {
  case 'NotAllowedError':
  case 'PermissionDeniedError':
  case 'SecurityError':
    return 'denied';
  case 'NotFoundError':
  case 'DevicesNotFoundError':
  case 'OverconstrainedError':
    return 'notFound';
  case 'NotReadableError':
  case 'TrackStartError':
  case 'AbortError':
    return 'inUse';
  default:
    return 'other';
  }
}

/* Calls onLevel(0..1) about ten times a second with the microphone's level; returns a stop
   function. */
export function levelMeter(stream, onLevel) {
  const track = stream.getAudioTracks()[0];
  if (!track || !window.AudioContext)
    return () => {};
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf)
      sum += v * v;
    const rms = Math.sqrt(sum / buf.length);
    // -60 dBFS .. 0 dBFS onto 0..1
    const db = 20 * Math.log10(rms + 1e-9);
    onLevel(Math.max(0, Math.min(1, (db + 60) / 60)));
  }, 100);
  // The context may start suspended until the person first clicks or presses a key.
  const resume = () => ctx.resume().catch(() => {});
  resume();
  document.addEventListener('click', resume);
  document.addEventListener('keydown', resume);
  return () => {
    clearInterval(timer);
    document.removeEventListener('click', resume);
    document.removeEventListener('keydown', resume);
    ctx.close().catch(() => {});
  };
}

export function stopDevices(stream) {
  if (stream)
    for (const track of stream.getTracks())
      track.stop();
}
