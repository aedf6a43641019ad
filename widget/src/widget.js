// The controller: connects the store, the socket and the view.

import { Connection } from "./connection.js";
import { HEARTBEAT_MS, Store } from "./store.js";
import { handoffChange, isRatingRequest, normalizeMessage, textColorFor } from "./messages.js";
import { STYLES } from "./styles.js";
import { buildView, entryElement, repliesElement } from "./view.js";

// Stop showing "typing" if no answer comes (the bot is paused, or the server is slow).
const TYPING_TIMEOUT_MS = 20000;
const STATUS_TEXT = {
  online: "Online",
  connecting: "Connecting…",
  offline: "Offline",
};
const HANDOFF_NOTICES = {
  joined: (name) => `${name} joined the conversation`,
  left: (name) => `${name} left; you are back with the assistant`,
  closed: (name) => `${name} closed the conversation`,
};

export class Widget {
  constructor(config, doc = document) {
    this.config = config;
    this.doc = doc;
    this.customerToken = config.customerToken || null;
    this.store = new Store(config.server);
    this.rendered = new Map();
    this.typingTimer = null;

    const host = doc.createElement("div");
    host.setAttribute("data-support-widget", "");
    const root = host.attachShadow({ mode: "open" });
    const style = doc.createElement("style");
    style.textContent = STYLES;
    root.append(style);
    this.view = buildView(doc, root, { title: config.title });
    doc.body.append(host);
    this.host = host;
    this.applyTheme();
    this.bindEvents();

    this.connection = new Connection({
      server: config.server,
      path: config.path,
      sessionId: this.store.sessionId(),
      onStatus: (status) => this.showStatus(status),
      onBotMessage: (message) => this.receive(message),
      onReady: () => this.flush(),
      // Only while an agent has the conversation: the bot's own typing is shown on sending.
      onAgentTyping: (on) => this.store.handoff().state === "joined" && this.setTyping(on, "agent"),
    });
    this.sync();
    if (this.store.isOpen() || config.open) this.open({ focus: false });
    this.store.sweepTabs();
    this.store.heartbeat();
    // Beating, and picking up what closed tabs left waiting once the session is live.
    setInterval(() => {
      this.store.heartbeat();
      if (this.connection.ready) this.flush();
    }, HEARTBEAT_MS);
    this.connection.connect();
  }

  applyTheme() {
    const { color } = this.config;
    if (color && globalThis.CSS?.supports?.("color", color)) {
      this.view.container.style.setProperty("--sw-color", color);
      this.view.container.style.setProperty("--sw-on-color", textColorFor(color));
    }
  }

  bindEvents() {
    const { launcher, close, form, input, panel } = this.view;
    launcher.addEventListener("click", () => (panel.hidden ? this.open() : this.close()));
    close.addEventListener("click", () => this.close());
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter starts a new line.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    input.addEventListener("input", () => {
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
    });
    // Another tab of this site wrote to the conversation: show what it recorded.
    globalThis.addEventListener?.("storage", (event) => {
      if (event.key === this.store.key("history") || event.key === this.store.key("handoff")) this.sync();
    });
    // Closing (or reloading) this tab: stop vouching for it at once.
    globalThis.addEventListener?.("pagehide", () => this.store.forgetTab());
  }

  open({ focus = true } = {}) {
    const { panel, launcher, input, container } = this.view;
    panel.hidden = false;
    container.classList.add("sw-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", `Close chat: ${this.config.title}`);
    this.store.setOpen(true);
    this.scrollDown();
    if (focus) input.focus();
  }

  close() {
    const { panel, launcher, container } = this.view;
    panel.hidden = true;
    container.classList.remove("sw-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", `Open chat: ${this.config.title}`);
    this.store.setOpen(false);
    launcher.focus();
  }

  showStatus(status) {
    const { container, banner, subtitle } = this.view;
    container.dataset.status = status;
    const handoff = this.store.handoff();
    subtitle.textContent =
      status === "online" && handoff.state === "joined" ? `Agent joined: ${handoff.agentName}` : STATUS_TEXT[status];
    const offline = status !== "online";
    banner.hidden = !offline;
    banner.textContent =
      status === "offline"
        ? "You are offline. Your messages will be sent when the connection is back."
        : "Reconnecting… Your messages will be sent when the connection is back.";
    if (offline) this.setTyping(false);
  }

  submit() {
    const { input } = this.view;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    input.style.height = "auto";
    this.sendMessage(text, text);
  }

  /** Show `label` as the customer's message and send `payload` to the bot, now or once online. */
  sendMessage(label, payload) {
    this.store.add({ from: "user", text: label, payload, pending: true });
    this.sync();
    this.flush();
  }

  /** Hand this tab's waiting messages to the socket, in order; stop at the first that can't go. */
  flush() {
    let sent = false;
    for (const entry of this.store.pending()) {
      const metadata = this.customerToken ? { customer_token: this.customerToken } : {};
      if (!this.connection.send(entry.payload, metadata)) break;
      // Marked right after the emit: the same message is never handed over twice.
      this.store.update(entry.id, { pending: false });
      sent = true;
    }
    if (sent) {
      this.sync();
      if (this.store.handoff().state !== "joined") this.setTyping(true);
    }
  }

  receive(raw) {
    const change = handoffChange(raw);
    const handoff = this.store.handoff();
    if (change) {
      this.store.setHandoff({ state: change.state === "joined" ? "joined" : "bot", agentName: change.agentName });
      this.store.add({ from: "notice", text: HANDOFF_NOTICES[change.state](change.agentName), handoff: change.state });
      this.showStatus(this.view.container.dataset.status);
    }
    const message = normalizeMessage(raw);
    if (!change && handoff.state === "joined" && isRatingRequest(message)) {
      // The satisfaction question comes when the agent closes, even without a "closed" notice.
      this.store.setHandoff({ state: "bot", agentName: handoff.agentName });
      this.showStatus(this.view.container.dataset.status);
    }
    if (message.text || message.image || message.quickReplies.length) {
      const agentName = !change && handoff.state === "joined" ? handoff.agentName : null;
      this.store.add({ from: "bot", message, agentName });
      this.setTyping(false);
    }
    this.sync();
  }

  setTyping(on, who = "assistant") {
    clearTimeout(this.typingTimer);
    this.view.typing.hidden = !on;
    this.view.typing.dataset.who = who;
    this.view.typingLabel.textContent =
      who === "agent" ? `${this.store.handoff().agentName} is typing` : "The assistant is typing";
    if (on) this.typingTimer = setTimeout(() => this.setTyping(false), TYPING_TIMEOUT_MS);
  }

  /** Bring the transcript in line with the store: add new entries, redraw changed ones. */
  sync() {
    const { log } = this.view;
    const entries = this.store.entries();
    if (this.config.greeting && !log.querySelector("[data-greeting]")) {
      const greeting = entryElement(this.doc, { id: "greeting", from: "bot", message: { text: this.config.greeting }, ts: Date.now() });
      greeting.setAttribute("data-greeting", "");
      greeting.querySelector(".sw-meta")?.remove();
      log.prepend(greeting);
    }
    const ids = new Set(entries.map((e) => e.id));
    let changed = false;
    for (const [id, item] of this.rendered) {
      if (!ids.has(id)) {
        item.node.remove();
        this.rendered.delete(id);
        changed = true;
      }
    }
    for (const entry of entries) {
      // The tab that owns a message is bookkeeping: a change of owner changes nothing shown.
      const version = JSON.stringify({ ...entry, tab: null });
      const known = this.rendered.get(entry.id);
      if (known && known.version === version) continue;
      const node = entryElement(this.doc, entry);
      if (known) known.node.replaceWith(node);
      else log.append(node);
      this.rendered.set(entry.id, { node, version });
      changed = true;
    }
    // Left alone when nothing changed: the customer may be reading further up, or tabbing
    // through the quick replies.
    if (!changed) return;
    this.showReplies(entries);
    this.scrollDown();
  }

  // Only the latest bot message's quick replies can be used: older ones are stale answers.
  showReplies(entries) {
    this.view.log.querySelectorAll(".sw-replies").forEach((group) => group.remove());
    const last = entries[entries.length - 1];
    const replies = last?.from === "bot" ? last.message?.quickReplies : null;
    if (!replies?.length) return;
    const group = repliesElement(this.doc, replies, (reply) => {
      this.sendMessage(reply.title, reply.payload);
      this.view.input.focus();
    });
    this.rendered.get(last.id)?.node.querySelector(".sw-bubble")?.after(group);
  }

  scrollDown() {
    const { log } = this.view;
    log.scrollTop = log.scrollHeight;
  }

  setCustomerToken(token) {
    this.customerToken = token || null;
  }

  /** Forget this conversation and start a new one (e.g. when the customer signs out). */
  reset() {
    this.store.clear();
    this.rendered.forEach((item) => item.node.remove());
    this.rendered.clear();
    this.setTyping(false);
    this.connection.restart(this.store.sessionId());
    this.sync();
  }
}

export { STATUS_TEXT };
