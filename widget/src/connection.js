// Rasa's socket.io channel with session persistence: ask for our session on every
// (re)connect, and only then send, so that no message goes out before the room is joined.

import { io } from "socket.io-client";

export class Connection {
  /**
   * @param {object} options  server URL, socket.io path, the session id and callbacks:
   *   onStatus("connecting" | "online" | "offline"), onBotMessage(message), onReady(),
   *   onAgentTyping(bool): the agent started or stopped typing (bot/channels/socketio.py)
   */
  constructor({ server, path, sessionId, onStatus, onBotMessage, onReady, onAgentTyping }) {
    this.sessionId = sessionId;
    this.onStatus = onStatus;
    this.ready = false;
    this.socket = io(server, {
      path,
      // WebSocket first; long-polling when a proxy refuses WebSockets.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      autoConnect: false,
    });
    this.socket.on("connect", () => {
      this.socket.emit("session_request", { session_id: this.sessionId });
    });
    this.socket.on("session_confirm", () => {
      this.ready = true;
      onStatus("online");
      onReady();
    });
    this.socket.on("bot_uttered", (message) => onBotMessage(message || {}));
    this.socket.on("agent_typing", (data) => onAgentTyping?.(data?.typing === true));
    this.socket.on("disconnect", () => this.lost());
    this.socket.io.on("reconnect_attempt", () => onStatus("connecting"));
    // The browser knows first when the network goes: drop the socket at once instead of
    // waiting for the ping timeout, and reconnect as soon as it returns.
    globalThis.addEventListener?.("offline", () => {
      this.socket.disconnect();
      this.lost();
    });
    globalThis.addEventListener?.("online", () => this.connect());
  }

  lost() {
    this.ready = false;
    this.onStatus(globalThis.navigator?.onLine === false ? "offline" : "connecting");
  }

  connect() {
    if (globalThis.navigator?.onLine === false) {
      this.lost();
      return;
    }
    this.onStatus("connecting");
    this.socket.connect();
  }

  /** Send a message now if the session is live; false means keep it for later. */
  send(text, metadata) {
    if (!this.ready || !this.socket.connected || globalThis.navigator?.onLine === false) return false;
    this.socket.emit("user_uttered", { message: text, session_id: this.sessionId, metadata });
    return true;
  }

  /** Start a new conversation under a new session id. */
  restart(sessionId) {
    this.sessionId = sessionId;
    this.socket.disconnect();
    this.connect();
  }
}
