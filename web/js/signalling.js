// signalling.js — the WebSocket session with the relay (docs/protocol.md): one JSON object per
// text frame. It knows nothing about views; it hands every message to on(type) handlers.

export class Signalling {
  constructor(url) {
    this.url = url;
    this.handlers = new Map();
    this.ws = null;
    this.closedByUs = false;
    this.pingTimer = null;
  }

  /* Handlers: any relay message type, plus 'open' and 'close' ({code, wasClean, opened}). */
  on(type, fn) {
    this.handlers.set(type, fn);
    return this;
  }

  emit(type, msg) {
    const fn = this.handlers.get(type) || this.handlers.get('*');
    if (fn)
      fn(msg);
  }

  connect() {
    let opened = false;
    this.ws = new WebSocket(this.url);
    this.ws.addEventListener('open', () => {
      opened = true;
      this.emit('open', {});
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 20000);
    });
    this.ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;  // the relay sends JSON only; ignore anything else
      }
      if (msg && typeof msg.type === 'string')
        this.emit(msg.type, msg);
    });
    this.ws.addEventListener('close', (ev) => {
      clearInterval(this.pingTimer);
      this.emit('close', { code: ev.code, wasClean: ev.wasClean, opened, byUs: this.closedByUs });
    });
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify(msg));
  }

  control(action, extra = {}) {
    this.send({ type: 'control', action, ...extra });
  }

  close() {
    this.closedByUs = true;
    if (this.ws)
      this.ws.close(1000);
  }
}

/* The relay's WebSocket address: the page's own host (the relay serves the pages). */
export function relaySocketUrl() {
  return `wss://${location.host}/ws`;
}
