// peers.js — the WebRTC connections: one publish connection (we offer sendonly audio+video) and
// one subscribe connection per remote participant (we offer recvonly audio+video). The relay only
// answers. Trickle ICE both ways with `candidate` messages whose target is "publish" or the feed.

function candidateMessage(target, c) {
  // An empty candidate string means "end of candidates" (docs/protocol.md).
  return { type: 'candidate', target, candidate: c ? c.candidate : '',
           sdpMLineIndex: c && c.sdpMLineIndex != null ? c.sdpMLineIndex : 0 };
}

// The TURN servers and credentials the relay gave at join (joined.iceServers, RTCIceServer form),
// kept only when well formed: a list of { urls, username, credential } with turn:/turns: urls.
export function iceServersFrom(list) {
  if (!Array.isArray(list))
    return [];
  return list.filter((s) => s && Array.isArray(s.urls) && s.urls.length > 0 &&
    s.urls.every((u) => typeof u === 'string' && /^turns?:/.test(u)) &&
    typeof s.username === 'string' && typeof s.credential === 'string')
    .map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
}

// A connection whose ICE has been disconnected this long (no answers to its checks: the link
// dropped, or the network changed) restarts ICE: new credentials and candidates, new checks, the
// same DTLS and SRTP (docs/poor-networks.md). Again after as long if it is still disconnected.
const ICE_RESTART_AFTER_MS = 4000;

// How long a feed's video waits for repairs (RTCRtpReceiver.jitterBufferTarget), as
// testimony-client's jitter buffers do (client/playout.c, docs/poor-networks.md): while its
// receiver asks for retransmissions, three of our round trips to the relay plus the publisher's
// round trip and two of the relay's waits between requests to it, or the longest the relay's
// repairs from that publisher took lately if longer (the relay's `repair` message), in 50 ms
// steps, at most 1 s; the browser's own choice again after 30 s without. A
// feed's first 10 s count as asking: the relay tells the round trips as the connection comes up,
// so the wait is set before the first picture, not by a pause at the first repair.
const REPAIR_TRIES = 3;
const REPAIR_MARGIN_MS = 50;
const REPAIR_STEP_MS = 50;
const REPAIR_MAX_MS = 1000;
const REPAIR_QUIET_MS = 30000;
const REPAIR_START_MS = 10000;

export function repairWaitMs(ownRttMs, upstream) {
  const tries = upstream ? upstream.rtt_ms + (REPAIR_TRIES - 1) * upstream.retry_ms : 0;
  const up = Math.max(tries, upstream && Number.isFinite(upstream.repair_ms) ? upstream.repair_ms : 0);
  const need = REPAIR_TRIES * ownRttMs + up + REPAIR_MARGIN_MS;
  return Math.min(Math.ceil(need / REPAIR_STEP_MS) * REPAIR_STEP_MS, REPAIR_MAX_MS);
}

// The picture we send follows what the browser may send, as testimony-client's does
// (docs/poor-networks.md, "The page's picture size"): each dimension is the camera's times 4/4,
// 3/4, 2/4 or 1/4, the largest for which the video encoder's target is at least 0.45 × share² ×
// 800 kbit/s per 640x480 (for a 640x480 camera: full size from 360 kbit/s, 480x360 from 203,
// 320x240 from 90, 160x120 below). The target is the higher of the last two seconds': a second's
// dip (a burst of retransmissions) is no reason to change. Smaller at once when the encoder
// cannot keep the camera's frame rate (fewer than 60 % of its frames sent in the last second: the
// target of that second counts then), or while the picture needs its whole target (the video
// sent in the last second at least 70 % of it): a plain picture, which codes to little, keeps its
// size at any rate, as the relay's estimate never goes far above what a sender uses. One size
// larger once the target has allowed it for 10 s.
// The sender keeps the size it is given and drops frames instead ('maintain-resolution'), so
// that the page alone chooses it: Chromium shrinks its picture by itself only after seconds of
// coarse quantizers and dropped frames (after a link fell from 1 Mbit/s to 300 kbit/s it sent
// 480x360 at 40-80 kbit/s, one or two frames a second, for 6-8 s), and its choice and ours
// would compound.
const SIZE_SHARES = [1, 0.75, 0.5, 0.25];
const SIZE_RATE_BPS = 0.45 * 800000;  // per 640x480 pixels
const SIZE_UP_AFTER_MS = 10000;
const SIZE_CHECK_MS = 1000;
const SIZE_FRAMES_KEPT = 0.6;
const SIZE_TARGET_USED = 0.7;

export function pictureShare(targetBps, pixels) {
  const need = (s) => SIZE_RATE_BPS * s * s * pixels / (640 * 480);
  return SIZE_SHARES.find((s) => targetBps >= need(s)) ?? SIZE_SHARES[SIZE_SHARES.length - 1];
}

// The connection's sender of a track of KIND ('audio', 'video'), or null.
function senderOf(pc, kind) {
  return pc.getSenders().find((s) => s.track && s.track.kind === kind) || null;
}

// The selected ICE candidate pair in a getStats() report, or null.
function selectedPair(stats) {
  for (const r of stats.values()) {
    if (r.type === 'transport' && r.selectedCandidatePairId)
      return stats.get(r.selectedCandidatePairId) || null;
  }
  return null;
}

/* The publish connection's picture size (pictureShare), checked every SIZE_CHECK_MS. */
class PictureSize {
  constructor(pc) {
    this.pc = pc;
    this.share = 1;
    this.configured = false;   // degradationPreference set
    this.allowedSince = null;  // when a larger share than this.share was first allowed
    this.last = null;          // { at, frames } of the last check
    this.timer = setInterval(() => this.check().catch(() => {}), SIZE_CHECK_MS);
  }

  async check() {
    const sender = senderOf(this.pc, 'video');
    if (!sender || this.pc.connectionState !== 'connected')
      return;
    if (!this.configured) {
      await this.apply(sender, this.share);
      this.configured = true;
    }
    let target = 0, frames = 0, bytes = 0;
    (await sender.getStats()).forEach((r) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video') {
        target = r.targetBitrate || 0;
        frames = r.framesSent || 0;
        bytes = (r.bytesSent || 0) - (r.retransmittedBytesSent || 0);  // the picture's own
      }
    });
    const now = Date.now();
    const last = this.last;
    this.last = { at: now, frames, bytes, target };
    const { width, height, frameRate } = sender.track.getSettings();
    if (!target || !width || !height || !last || !last.target || now <= last.at)
      return;
    const pixels = width * height;
    const allowed = pictureShare(Math.max(target, last.target), pixels);
    const fps = (frames - last.frames) * 1000 / (now - last.at);
    const bps = (bytes - last.bytes) * 8000 / (now - last.at);
    if (allowed > this.share) {
      this.allowedSince ??= now;
      if (now - this.allowedSince >= SIZE_UP_AFTER_MS)
        await this.apply(sender, SIZE_SHARES[SIZE_SHARES.indexOf(this.share) - 1]);
      return;
    }
    this.allowedSince = null;
    const failing = pictureShare(target, pixels);
    if (fps < SIZE_FRAMES_KEPT * (frameRate || 30) && failing < this.share)
      await this.apply(sender, failing);
    else if (bps >= SIZE_TARGET_USED * target && allowed < this.share)
      await this.apply(sender, allowed);
  }

  async apply(sender, share) {
    this.allowedSince = null;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length === 0)
      return;
    params.degradationPreference = 'maintain-resolution';
    params.encodings[0].scaleResolutionDownBy = 1 / share;
    await sender.setParameters(params);
    this.share = share;
  }

  stop() {
    clearInterval(this.timer);
  }
}

class Connection {
  /* offerMessage(sdp): the message that carries an offer of this connection to the relay. */
  constructor(target, signalling, onState, iceServers, offerMessage) {
    this.target = target;
    this.signalling = signalling;
    this.offerMessage = offerMessage;
    this.restarts = 0;
    this.restartTimer = null;
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
                                      iceServers: iceServers || [] });
    this.pendingRemote = [];
    this.answered = false;
    this.pc.addEventListener('icecandidate', (ev) => {
      if (ev.candidate && !ev.candidate.candidate)
        return;  // some browsers signal the end twice; the null event is the one we send
      signalling.send(candidateMessage(target, ev.candidate));
    });
    this.pc.addEventListener('connectionstatechange', () => onState && onState(this.pc.connectionState));
    this.pc.addEventListener('iceconnectionstatechange', () => this.watchIce());
  }

  async offer() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.signalling.send(this.offerMessage(this.pc.localDescription.sdp));
  }

  watchIce() {
    const state = this.pc.iceConnectionState;
    if (state === 'disconnected' || state === 'failed') {
      if (!this.restartTimer)
        this.restartTimer = setTimeout(() => this.restartIce(), ICE_RESTART_AFTER_MS);
    } else if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
  }

  /* The relay answers an offer with new ICE credentials for this connection with new ones of
     its own and keeps the connection (relay/shell/room.c, tm_room_restart_ice). */
  async restartIce() {
    this.restartTimer = null;
    if (this.pc.signalingState !== 'stable' || this.pc.connectionState === 'closed')
      return;
    this.restarts++;
    this.answered = false;
    this.pc.restartIce();
    try {
      await this.offer();
    } catch (e) {
      console.warn('ICE restart', this.target, e);
    }
    this.watchIce();  // still disconnected: try again later
  }

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.answered = true;
    for (const c of this.pendingRemote.splice(0))
      await this.addCandidate(c);
  }

  async addCandidate(msg) {
    if (!this.answered) {
      this.pendingRemote.push(msg);
      return;
    }
    const init = msg.candidate ? { candidate: msg.candidate, sdpMLineIndex: msg.sdpMLineIndex ?? 0 }
                               : null;
    try {
      await this.pc.addIceCandidate(init);
    } catch (e) {
      console.warn('candidate refused', e);
    }
  }

  close() {
    clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.pictureSize)
      this.pictureSize.stop();
    this.pc.close();
  }
}

export class Peers {
  /* events: onTrack(feedId, MediaStream), onPublishState(state), onFeedState(feedId, state) */
  constructor(signalling, events) {
    this.signalling = signalling;
    this.events = events;
    this.publisher = null;
    this.feeds = new Map();
    this.pendingSubscribes = [];  // feed ids whose subscribe awaits an answer, in order
    this.iceServers = [];  // set at join (iceServersFrom)
  }

  async publish(stream) {
    if (this.publisher || !stream)
      return;
    const c = new Connection('publish', this.signalling, (s) => this.events.onPublishState(s),
                             this.iceServers, (sdp) => ({ type: 'publish', sdp }));
    this.publisher = c;
    // Audio first, then video, like testimony-client.
    for (const kind of ['audio', 'video']) {
      const track = stream.getTracks().find((tr) => tr.kind === kind);
      if (track)
        c.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    }
    c.pictureSize = new PictureSize(c.pc);
    await c.offer();
  }

  /* Restarts ICE on every connection now (what a lost link does after ICE_RESTART_AFTER_MS);
     for the tests. Returns how many connections restarted. */
  async restartIce() {
    const all = [this.publisher, ...this.feeds.values()].filter((c) => c);
    await Promise.all(all.map((c) => c.restartIce()));
    return all.length;
  }

  /* ICE restarts so far, over all connections. */
  iceRestarts() {
    return [this.publisher, ...this.feeds.values()].filter((c) => c)
      .reduce((n, c) => n + c.restarts, 0);
  }

  /* The publish connection's sender for a kind, to switch a track on or off. */
  sender(kind) {
    if (!this.publisher)
      return null;
    return senderOf(this.publisher.pc, kind);
  }

  async subscribe(feed) {
    if (this.feeds.has(feed))
      return;
    const c = new Connection(feed, this.signalling, (s) => this.events.onFeedState(feed, s),
                             this.iceServers, (sdp) => ({ type: 'subscribe', feed, sdp }));
    this.feeds.set(feed, c);
    c.repairingSince = Date.now() - REPAIR_QUIET_MS + REPAIR_START_MS;  // the start counts
    c.pc.addTransceiver('audio', { direction: 'recvonly' });
    c.pc.addTransceiver('video', { direction: 'recvonly' });
    const stream = new MediaStream();
    c.pc.addEventListener('track', (ev) => {
      stream.addTrack(ev.track);
      this.events.onTrack(feed, stream);
    });
    this.pendingSubscribes.push(feed);
    await c.offer();
  }

  /* The relay's `repair` message (every 2 s, and as a feed's connection comes up): sets each
     feed's video wait (repairWaitMs) while that feed's receiver asks for retransmissions (its
     nackCount grows), and in its first seconds. */
  async onRepair(msg) {
    const own = Number.isFinite(msg.rtt_ms) ? msg.rtt_ms : 0;
    const listed = Array.isArray(msg.feeds) ? msg.feeds : [];
    for (const [feed, c] of this.feeds) {
      const receiver = c.pc.getReceivers().find((r) => r.track && r.track.kind === 'video');
      if (!receiver || !('jitterBufferTarget' in receiver))
        continue;
      let nacks = 0;
      try {
        (await receiver.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video')
            nacks += r.nackCount || 0;
        });
      } catch (e) {
        continue;
      }
      const now = Date.now();
      if (nacks > (c.nacks || 0))
        c.repairingSince = now;
      c.nacks = nacks;
      const up = listed.find((f) => f && f.id === feed && Number.isFinite(f.rtt_ms) &&
                                    Number.isFinite(f.retry_ms));
      const target = c.repairingSince && now - c.repairingSince < REPAIR_QUIET_MS
        ? repairWaitMs(own, up) : null;
      if (receiver.jitterBufferTarget !== target)
        receiver.jitterBufferTarget = target;
    }
  }

  unsubscribe(feed, tellRelay) {
    const c = this.feeds.get(feed);
    if (!c)
      return;
    c.close();
    this.feeds.delete(feed);
    this.pendingSubscribes = this.pendingSubscribes.filter((f) => f !== feed);
    if (tellRelay)
      this.signalling.send({ type: 'unsubscribe', feed });
  }

  async onAnswer(msg) {
    const c = msg.target === 'publish' ? this.publisher : this.feeds.get(msg.target);
    if (!c)
      return;
    if (msg.target !== 'publish')
      this.pendingSubscribes = this.pendingSubscribes.filter((f) => f !== msg.target);
    try {
      await c.answer(msg.sdp);
    } catch (e) {
      console.warn('answer refused', msg.target, e);
    }
  }

  onCandidate(msg) {
    const c = msg.target === 'publish' ? this.publisher : this.feeds.get(msg.target);
    if (c)
      c.addCandidate(msg);
  }

  /* How the publish connection reaches the relay (for IT and the tests): the selected candidate
     pair's local protocol and type ("udp host", "tcp host", "udp relay" through TURN) and the
     relay's address it goes to. */
  async path() {
    if (!this.publisher)
      return null;
    const stats = await this.publisher.pc.getStats();
    const pair = selectedPair(stats);
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    if (!local || !remote)
      return null;
    return { local: `${local.protocol} ${local.candidateType}`,
             relayProtocol: local.relayProtocol || null,
             remote: `${remote.protocol} ${remote.address}:${remote.port}` };
  }

  /* What the publish connection sends (for IT and the benchmarks): the video's frames sent,
     size, encoder target and why its quality is limited, bytes sent and resent, and the
     browser's own estimate of its link (the selected pair's availableOutgoingBitrate). */
  async sending() {
    if (!this.publisher)
      return null;
    const out = { framesSent: 0, frameWidth: 0, frameHeight: 0, targetBitrate: 0, bytesSent: 0,
                  retransmittedBytesSent: 0, qualityLimitationReason: null,
                  availableOutgoingBitrate: null, roundTripTime: null,
                  share: this.publisher.pictureSize ? this.publisher.pictureSize.share : 1 };
    const stats = await this.publisher.pc.getStats();
    stats.forEach((r) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video') {
        out.framesSent = r.framesSent || 0;
        out.frameWidth = r.frameWidth || 0;
        out.frameHeight = r.frameHeight || 0;
        out.targetBitrate = r.targetBitrate || 0;
        out.qualityLimitationReason = r.qualityLimitationReason || null;
      }
      if (r.type === 'outbound-rtp') {
        out.bytesSent += r.bytesSent || 0;
        out.retransmittedBytesSent += r.retransmittedBytesSent || 0;
      }
    });
    const pair = selectedPair(stats);
    if (pair) {
      out.availableOutgoingBitrate = pair.availableOutgoingBitrate ?? null;
      out.roundTripTime = pair.currentRoundTripTime ?? null;
    }
    return out;
  }

  /* The relay's error for a refused subscribe names no feed: it answers in order, so the oldest
     unanswered subscribe is the one refused (as testimony-client does). */
  onSubscribeRefused() {
    const feed = this.pendingSubscribes.shift();
    if (feed)
      this.unsubscribe(feed, false);
    return feed;
  }

  /* Per feed: video frames decoded, size, packets lost, round trip; for the page and tests. */
  async stats() {
    const out = {};
    for (const [feed, c] of this.feeds) {
      const s = { framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsLost: 0,
                  freezeCount: 0, totalFreezesDuration: 0, audioPackets: 0,
                  concealedSamples: 0, totalSamplesReceived: 0, state: c.pc.connectionState,
                  waitMs: null };
      const video = c.pc.getReceivers().find((r) => r.track && r.track.kind === 'video');
      if (video && 'jitterBufferTarget' in video)
        s.waitMs = video.jitterBufferTarget;  // set by onRepair; null: the browser's own
      const report = await c.pc.getStats();
      report.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          s.framesDecoded = r.framesDecoded || 0;
          s.frameWidth = r.frameWidth || 0;
          s.frameHeight = r.frameHeight || 0;
          s.freezeCount = r.freezeCount || 0;
          s.totalFreezesDuration = r.totalFreezesDuration || 0;
          s.packetsLost += r.packetsLost || 0;
        } else if (r.type === 'inbound-rtp' && r.kind === 'audio') {
          s.audioPackets = r.packetsReceived || 0;
          s.concealedSamples = r.concealedSamples || 0;
          s.totalSamplesReceived = r.totalSamplesReceived || 0;
          s.packetsLost += r.packetsLost || 0;
        }
      });
      out[feed] = s;
    }
    return out;
  }

  closeAll() {
    for (const feed of [...this.feeds.keys()])
      this.unsubscribe(feed, false);
    if (this.publisher)
      this.publisher.close();
    this.publisher = null;
  }
}
