// devices.js — the camera and microphone: opening them, the level meter, and turning the
// browser's error into one of our error kinds (each has a sentence and a "how to fix" in i18n).

export async function openDevices() {
  if (!window.isSecureContext)
    throw { kind: 'insecure' };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.RTCPeerConnection)
    throw { kind: 'unsupported' };
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
    });
  } catch (e) {
    throw { kind: errorKind(e), detail: e && e.name ? e.name : String(e) };
  }
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
