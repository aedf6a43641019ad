// The agent console: sign-in and presence, the live queue, and working one conversation.

import { allPages, api, session, whenUnauthorized } from "./api.js";
import { CHANNELS, REASONS, duration, el, label, replace } from "./dom.js";
import { LiveUpdates } from "./live.js";
import { MessageList, loadMessages, renderEarlier } from "./messages.js";
import { renderCustomerPanel } from "./panel.js";
import { renderQueue, tickWaitTimes } from "./queue.js";
import { explain, notify } from "./notices.js";
import { wireComposer } from "./composer.js";

const $ = (id) => document.getElementById(id);
const PRESENCE_HEARTBEAT_MS = 60000;

const state = {
  me: null, // AgentRead
  waiting: new Map(), // handoff id -> HandoffItem
  mine: new Map(),
  unread: new Set(), // handoff ids with customer messages not yet seen
  selected: null, // the HandoffItem on screen
  agents: [],
  canned: [],
};
const context = { me: null, agentNames: new Map(), customerName: null };
const messages = new MessageList($("messages"), context);
let live = null;
let heartbeat = null;

// --- sign-in, presence, sign-out ---------------------------------------------------------------

function setPresence(online, options = {}) {
  return api("PUT", "/api/agents/me/presence", { is_online: online }, options).catch(() => {});
}

async function signIn(event) {
  event.preventDefault();
  const error = $("login-error");
  error.hidden = true;
  $("login-submit").disabled = true;
  try {
    const body = await api(
      "POST",
      "/api/auth/login",
      { email: $("login-email").value.trim(), password: $("login-password").value },
      { auth: false },
    );
    session.set({ token: body.access_token, agent: body.agent });
    $("login-password").value = "";
    await enterConsole();
  } catch (failure) {
    error.textContent = failure.status === 401 ? "Wrong email or password." : explain(failure);
    error.hidden = false;
  } finally {
    $("login-submit").disabled = false;
  }
}

async function signOut() {
  live?.stop();
  clearInterval(heartbeat);
  await setPresence(false);
  session.clear();
  showLogin();
}

function showLogin() {
  live?.stop();
  clearInterval(heartbeat);
  state.selected = null;
  $("console-view").hidden = true;
  $("login-view").hidden = false;
  $("login-email").focus();
}

async function enterConsole() {
  state.me = await api("GET", "/api/auth/me");
  context.me = state.me.id;
  $("agent-name").textContent = state.me.name;
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  await setPresence(true);
  heartbeat = setInterval(() => setPresence(true), PRESENCE_HEARTBEAT_MS);
  const [agents, canned] = await Promise.all([
    allPages("/api/agents", { is_active: "true" }),
    allPages("/api/canned-responses").catch(() => []),
  ]);
  state.agents = agents;
  context.agentNames = new Map(agents.map((a) => [a.id, a.name]));
  state.canned = canned;
  replace(
    $("canned"),
    el("option", { value: "", text: "Insert a canned response…" }),
    canned.map((c) => el("option", { value: String(c.id), text: `${c.title} (${c.shortcut})` })),
  );
  live = new LiveUpdates({
    token: () => session.get()?.token ?? null,
    onEvent,
    resync,
    onState: showLiveState,
    onUnauthorized: showLogin,
  });
  live.start();
  await resync();
}

function showLiveState(mode) {
  const text = { live: "Live", polling: "Reconnecting… (refreshing every 5 s)", connecting: "Connecting…" }[mode];
  $("live-status").textContent = text;
  $("live-status").className = `live-status ${mode}`;
}

// --- the queue --------------------------------------------------------------------------------

/** Reload the lists (and the open conversation's messages): after a reconnect, or when polling. */
async function resync() {
  if (!state.me) return;
  try {
    const [waiting, mine] = await Promise.all([
      allPages("/api/handoffs", { status: "waiting" }),
      allPages("/api/handoffs", { status: "assigned", assignee_id: String(state.me.id) }),
    ]);
    state.waiting = new Map(waiting.map((h) => [h.id, h]));
    state.mine = new Map(mine.map((h) => [h.id, h]));
    if (state.selected) {
      const fresh = await api("GET", `/api/handoffs/${state.selected.id}`);
      updateSelected(fresh);
      messages.add(await loadMessages(fresh.sender_id));
    }
    renderQueue(state, openHandoff);
  } catch (error) {
    if (error.status !== 401) showLiveState("polling");
  }
}

function applyHandoff(handoff) {
  state.waiting.delete(handoff.id);
  state.mine.delete(handoff.id);
  if (handoff.status === "waiting") state.waiting.set(handoff.id, handoff);
  else if (handoff.status === "assigned" && handoff.assignee_id === state.me.id) state.mine.set(handoff.id, handoff);
  if (state.selected?.id === handoff.id) updateSelected(handoff);
  renderQueue(state, openHandoff);
}

function onEvent(event) {
  if (event.type === "handoff.changed") applyHandoff(event.handoff);
  else if (event.type === "message.created") {
    if (state.selected?.sender_id === event.sender_id) messages.add([event.message]);
    else {
      const owner = [...state.mine.values()].find((h) => h.sender_id === event.sender_id);
      if (owner && event.message.author === "customer") {
        state.unread.add(owner.id);
        renderQueue(state, openHandoff);
      }
    }
  }
}

// --- one conversation ----------------------------------------------------------------------------

function isMine(handoff) {
  return handoff.status === "assigned" && (handoff.assignee_id === state.me.id || state.me.role === "admin");
}

/** Header, actions and composer for the selected handoff's current state. */
function updateSelected(handoff) {
  const before = state.selected;
  state.selected = handoff;
  if (before && before.status === "waiting" && handoff.status === "assigned" && handoff.assignee_id !== state.me.id) {
    notify("Another agent took it.", "warning");
  }
  const assignee = handoff.assignee_id ? (context.agentNames.get(handoff.assignee_id) ?? `agent ${handoff.assignee_id}`) : null;
  const status = {
    waiting: el("span", { class: "wait", "data-since": handoff.requested_at, text: `waiting ${duration(handoff.wait_seconds ?? 0)}` }),
    assigned: handoff.assignee_id === state.me.id ? "Assigned to you" : `Assigned to ${assignee}`,
    resolved: handoff.summary?.outcome === "handed_back" ? "Handed back to the bot" : "Closed",
    abandoned: "The customer left",
  }[handoff.status];
  const parts = [label(CHANNELS, handoff.channel), label(REASONS, handoff.reason), status];
  if (handoff.csat_score) parts.push(`Rated ${handoff.csat_score}/5`);
  replace($("conversation-meta"), parts.filter(Boolean).flatMap((part, i) => (i ? [" · ", part] : [part])));
  const mine = isMine(handoff);
  $("claim").hidden = handoff.status !== "waiting";
  for (const id of ["transfer-agent", "transfer", "release", "resolve"]) $(id).hidden = !mine;
  document.querySelector("label[for=transfer-agent]").hidden = !mine;
  $("composer").hidden = !mine;
  replace(
    $("transfer-agent"),
    state.agents
      .filter((a) => a.id !== handoff.assignee_id)
      .map((a) => el("option", { value: String(a.id), text: `${a.name}${a.is_online ? " (online)" : ""}` })),
  );
}

function renderSummary(summary) {
  const fields = [
    ["Topic", summary?.intent ? label({}, summary.intent) : null],
    ["Order", summary?.order],
    ["Ticket", summary?.verified_ticket],
    ["Verified", summary?.verified === undefined ? null : summary.verified ? "yes" : "no"],
    ["Request", summary?.request],
    ["FAQ answered", summary?.faq_answered],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  replace(
    $("bot-summary"),
    fields.length ? el("span", { class: "summary-title", text: "The bot's summary" }) : null,
    fields.map(([name, value]) => el("div", {}, el("dt", { text: name }), el("dd", { text: String(value) }))),
  );
}

async function openHandoff(handoffId) {
  const handoff = await api("GET", `/api/handoffs/${handoffId}`).catch((error) => {
    notify(explain(error), "error");
    return null;
  });
  if (!handoff) return;
  state.unread.delete(handoff.id);
  state.selected = null;
  $("conversation-empty").hidden = true;
  $("conversation-pane").hidden = false;
  $("conversation-title").textContent = "Customer";
  updateSelected(handoff);
  renderSummary(handoff.summary);
  renderQueue(state, openHandoff);
  context.customerName = null;
  messages.reset([]);
  const [history, customer] = await Promise.all([
    loadMessages(handoff.sender_id),
    renderCustomerPanel($("customer-panel"), handoff.customer_id).catch((error) => {
      replace($("customer-panel"), el("p", { class: "error", text: explain(error) }));
      return null;
    }),
  ]);
  if (state.selected?.id !== handoff.id) return; // another conversation was opened meanwhile
  context.customerName = customer?.full_name ?? null;
  $("conversation-title").textContent = customer?.full_name ?? `Visitor ${handoff.sender_id.slice(0, 12)}`;
  messages.reset(history);
  await renderEarlier($("earlier"), { customerId: handoff.customer_id, senderId: handoff.sender_id, context }).catch(() => {});
  (isMine(handoff) ? $("reply") : $("conversation")).focus();
}

/** Run a handoff action (claim, transfer, release, resolve) and show its outcome. */
async function act(path, body, done) {
  const handoff = state.selected;
  if (!handoff) return;
  try {
    const updated = await api("POST", `/api/handoffs/${handoff.id}/${path}`, body);
    applyHandoff(updated);
    if (done) notify(done);
  } catch (error) {
    notify(explain(error), "error");
    if (error.error === "handoff_already_claimed") {
      state.waiting.delete(handoff.id);
      renderQueue(state, openHandoff);
      api("GET", `/api/handoffs/${handoff.id}`).then(updateSelected, () => {});
    }
  }
}

// --- start ----------------------------------------------------------------------------------------

function wire() {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", signOut);
  $("claim").addEventListener("click", () => act("claim", undefined, "You have the conversation."));
  $("transfer").addEventListener("click", () => {
    const agentId = Number($("transfer-agent").value);
    if (agentId) act("transfer", { agent_id: agentId }, "Transferred.");
  });
  $("release").addEventListener("click", () => act("release", undefined, "Handed back to the bot."));
  $("resolve").addEventListener("click", () => act("resolve", undefined, "Closed: the customer was asked for a rating."));
  wireComposer({ selected: () => state.selected, canned: () => state.canned, onSent: (m) => messages.add([m]) });
  // Closing the tab takes the agent off the routing list (keepalive outlives the page).
  window.addEventListener("pagehide", () => {
    if (session.get()) setPresence(false, { keepalive: true });
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && session.get()) setPresence(true);
  });
  whenUnauthorized(() => {
    session.clear();
    showLogin();
  });
  setInterval(tickWaitTimes, 1000);
}

wire();
if (session.get()) enterConsole().catch(showLogin);
else showLogin();
