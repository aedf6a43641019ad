// What survives a reload: the Rasa session id and the transcript (localStorage, shared by
// the tabs of one site), and this tab's identity (sessionStorage, kept across its reloads).

const MAX_ENTRIES = 200;
// Two tabs of one session both receive every bot message; the second copy to arrive
// within this window is the same message, already recorded by the other tab.
const SAME_MESSAGE_WINDOW_MS = 5000;
// Each open tab says it is alive this often; a tab silent for longer than the limit is
// gone, and another tab sends the messages it left waiting (so none is lost).
export const HEARTBEAT_MS = 2000;
const GONE_AFTER_MS = 8000;

function randomId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
}

function read(storage, key, fallback) {
  try {
    const raw = storage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(storage, key, value) {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the conversation goes on, unsaved.
  }
}

export class Store {
  /** Storage scoped to one Rasa server, so two widgets on one site keep apart. */
  constructor(server, local = globalThis.localStorage, session = globalThis.sessionStorage) {
    this.local = local;
    this.session = session;
    this.prefix = `support-widget:${server}:`;
    this.tab = read(session, `${this.prefix}tab`, null);
    if (!this.tab) {
      this.tab = randomId();
      write(session, `${this.prefix}tab`, this.tab);
    }
  }

  key(name) {
    return this.prefix + name;
  }

  /** The Rasa session id, created on first use. */
  sessionId() {
    let id = read(this.local, this.key("session"), null);
    if (!id) {
      id = randomId();
      write(this.local, this.key("session"), id);
    }
    return id;
  }

  entries() {
    return read(this.local, this.key("history"), []);
  }

  save(entries) {
    write(this.local, this.key("history"), entries.slice(-MAX_ENTRIES));
  }

  /** Record a new entry (stamped with an id, this tab and the time) and return it. */
  add(fields) {
    const entry = { id: randomId(), tab: this.tab, ts: Date.now(), ...fields };
    const entries = this.entries();
    if (entry.from === "bot" && this.isEcho(entries, entry)) return null;
    entries.push(entry);
    this.save(entries);
    return entry;
  }

  isEcho(entries, entry) {
    return entries.some(
      (other) =>
        other.from === "bot" &&
        other.tab !== entry.tab &&
        Math.abs(other.ts - entry.ts) < SAME_MESSAGE_WINDOW_MS &&
        JSON.stringify(other.message) === JSON.stringify(entry.message),
    );
  }

  update(id, changes) {
    const entries = this.entries();
    const entry = entries.find((e) => e.id === id);
    if (entry) Object.assign(entry, changes);
    this.save(entries);
    return entry;
  }

  /** Tell the other tabs that this one is open. */
  heartbeat() {
    write(this.local, this.key(`alive:${this.tab}`), Date.now());
  }

  /** Drop the marks of tabs long gone (a tab that crashed never removed its own). */
  sweepTabs() {
    const alive = this.key("alive:");
    for (let i = this.local.length - 1; i >= 0; i--) {
      const name = this.local.key(i);
      if (name?.startsWith(alive) && Date.now() - read(this.local, name, 0) > 100 * GONE_AFTER_MS) {
        this.local.removeItem(name);
      }
    }
  }

  forgetTab() {
    this.local.removeItem(this.key(`alive:${this.tab}`));
  }

  isGone(tab) {
    const seen = read(this.local, this.key(`alive:${tab}`), 0);
    return Date.now() - seen > GONE_AFTER_MS;
  }

  /** This tab's messages not yet handed to the socket, oldest first, with those of closed tabs. */
  pending() {
    const entries = this.entries();
    const orphans = entries.filter((e) => e.pending && e.tab !== this.tab && this.isGone(e.tab));
    if (orphans.length) {
      // Claimed in one write; JavaScript on one site's tabs runs one task at a time, so
      // the tab that reads next sees the claim and leaves these entries alone.
      for (const entry of orphans) entry.tab = this.tab;
      this.save(entries);
    }
    return entries.filter((e) => e.pending && e.tab === this.tab);
  }

  handoff() {
    return read(this.local, this.key("handoff"), { state: "bot", agentName: null });
  }

  setHandoff(state) {
    write(this.local, this.key("handoff"), state);
  }

  isOpen() {
    return read(this.session, this.key("open"), false);
  }

  setOpen(open) {
    write(this.session, this.key("open"), open);
  }

  /** Forget the conversation (a customer signing out on a shared computer). */
  clear() {
    for (const name of ["session", "history", "handoff"]) this.local.removeItem(this.key(name));
    this.heartbeat();
  }
}
