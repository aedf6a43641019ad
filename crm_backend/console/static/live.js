// Live updates: the /api/live WebSocket, reconnected with back-off; polling only while it is down.

const POLL_MS = 5000;
const MAX_BACKOFF_MS = 30000;

export class LiveUpdates {
  /**
   * @param {() => string | null} token   the current agent token
   * @param {(event: object) => void} onEvent   one parsed event from the socket
   * @param {() => void} resync   reload what may have been missed (on connect, and each poll)
   * @param {(state: "live" | "polling" | "connecting") => void} onState
   * @param {() => void} onUnauthorized   the socket refused the token (close code 4401)
   */
  constructor({ token, onEvent, resync, onState, onUnauthorized }) {
    Object.assign(this, { token, onEvent, resync, onState, onUnauthorized });
    this.socket = null;
    this.backoff = 1000;
    this.pollTimer = null;
    this.retryTimer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPolling();
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
  }

  connect() {
    const token = this.token();
    if (!token || this.stopped) return;
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/api/live?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type === "live.ready") {
        this.backoff = 1000;
        this.stopPolling();
        this.onState("live");
        this.resync(); // events sent while we were away are not replayed: reload once
        return;
      }
      this.onEvent(event);
    });
    socket.addEventListener("close", (closed) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (closed.code === 4401) {
        this.onUnauthorized();
        return;
      }
      this.startPolling();
      this.retryTimer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    });
  }

  startPolling() {
    this.onState("polling");
    if (this.pollTimer) return;
    this.resync();
    this.pollTimer = setInterval(() => this.resync(), POLL_MS);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
