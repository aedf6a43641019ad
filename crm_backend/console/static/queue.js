// The queue column: waiting handoffs (oldest first, live wait time) and the agent's own.

import { CHANNELS, REASONS, duration, el, label, replace, secondsSince } from "./dom.js";

/** Waiting since `requested_at`; the ticking timer below keeps it current. */
function waitText(handoff) {
  return `waiting ${duration(secondsSince(handoff.requested_at))}`;
}

function entry(handoff, { selectedId, unread, onOpen }) {
  const topic = handoff.summary?.intent ? label({}, handoff.summary.intent) : null;
  const button = el(
    "button",
    {
      type: "button",
      class: "handoff",
      "aria-current": handoff.id === selectedId ? "true" : null,
      "data-handoff": handoff.id,
      onclick: () => onOpen(handoff.id),
    },
    el(
      "span",
      { class: "handoff-line" },
      el("span", { class: "strong", text: label(CHANNELS, handoff.channel) }),
      handoff.status === "waiting"
        ? el("span", { class: "wait", "data-since": handoff.requested_at, text: waitText(handoff) })
        : null,
      unread ? el("span", { class: "badge unread", text: "new", "aria-label": "new messages" }) : null,
    ),
    el("span", { class: "reason", text: label(REASONS, handoff.reason) }),
    topic ? el("span", { class: "muted", text: `Topic: ${topic}` }) : null,
  );
  return el("li", {}, button);
}

/** Draw both lists from the current state. */
export function renderQueue(state, onOpen) {
  const waiting = [...state.waiting.values()].sort((a, b) => a.requested_at.localeCompare(b.requested_at));
  const mine = [...state.mine.values()].sort((a, b) => (a.claimed_at ?? "").localeCompare(b.claimed_at ?? ""));
  const options = (h) => ({ selectedId: state.selected?.id, unread: state.unread.has(h.id), onOpen });
  replace(document.getElementById("waiting-list"), waiting.map((h) => entry(h, options(h))));
  replace(document.getElementById("mine-list"), mine.map((h) => entry(h, options(h))));
  document.getElementById("waiting-count").textContent = String(waiting.length);
  document.getElementById("mine-count").textContent = String(mine.length);
  document.getElementById("waiting-empty").hidden = waiting.length > 0;
  document.getElementById("mine-empty").hidden = mine.length > 0;
  document.title = waiting.length ? `(${waiting.length}) Agent console` : "Agent console";
}

/** Once a second: every visible wait time moves on, without redrawing the lists. */
export function tickWaitTimes() {
  for (const node of document.querySelectorAll(".wait[data-since]")) {
    node.textContent = `waiting ${duration(secondsSince(node.dataset.since))}`;
  }
}
