// The reply box: canned responses inserted to edit, replies to the customer, internal notes.

import { api } from "./api.js";
import { explain, notify } from "./notices.js";

const $ = (id) => document.getElementById(id);
// The customer's widget shows "typing" while the agent types: a start at most every few
// seconds while keys go on (the widget hides it after a while by itself), a stop after a pause.
const TYPING_REPEAT_MS = 4000;
const TYPING_PAUSE_MS = 3000;

/**
 * @param selected  () => the HandoffItem on screen
 * @param canned    () => the canned responses
 * @param onSent    (message) => show the stored message
 */
export function wireComposer({ selected, canned, onSent }) {
  const typing = { handoffId: null, sentAt: 0, stopTimer: null };

  function sendTyping(on) {
    const handoffId = on ? selected()?.id : typing.handoffId;
    if (!handoffId) return;
    typing.handoffId = on ? handoffId : null;
    typing.sentAt = on ? Date.now() : 0;
    // Best-effort: a lost indicator only means the customer sees no dots.
    api("POST", `/api/handoffs/${handoffId}/typing`, { typing: on }).catch(() => {});
  }

  function typed() {
    const handoff = selected();
    if (!handoff || $("internal").checked || !$("reply").value.trim()) return stopTyping();
    if (typing.handoffId !== handoff.id) stopTyping();
    if (Date.now() - typing.sentAt > TYPING_REPEAT_MS) sendTyping(true);
    clearTimeout(typing.stopTimer);
    typing.stopTimer = setTimeout(stopTyping, TYPING_PAUSE_MS);
  }

  function stopTyping() {
    clearTimeout(typing.stopTimer);
    if (typing.handoffId) sendTyping(false);
  }

  async function send(event) {
    event.preventDefault();
    const handoff = selected();
    const text = $("reply").value.trim();
    if (!handoff || !text) return;
    const internal = $("internal").checked;
    stopTyping();
    $("send").disabled = true;
    try {
      const message = internal
        ? await api("POST", `/api/conversations/${encodeURIComponent(handoff.sender_id)}/messages`, {
            author: "agent",
            text,
            channel: handoff.channel,
            is_internal: true,
          })
        : await api("POST", `/api/handoffs/${handoff.id}/messages`, { text });
      onSent(message);
      $("reply").value = "";
      $("internal").checked = false;
      updateComposerHint();
    } catch (error) {
      notify(explain(error), "error");
    } finally {
      $("send").disabled = false;
      $("reply").focus();
    }
  }

  function insertCanned() {
    const chosen = canned().find((c) => String(c.id) === $("canned").value);
    $("canned").value = "";
    if (!chosen) return;
    const reply = $("reply");
    // Inserted at the cursor, to be edited before sending; never sent by itself.
    const { selectionStart: start, selectionEnd: end, value } = reply;
    reply.value = value.slice(0, start) + chosen.text + value.slice(end);
    reply.focus();
    reply.setSelectionRange(start + chosen.text.length, start + chosen.text.length);
  }

  function updateComposerHint() {
    const internal = $("internal").checked;
    $("composer").classList.toggle("internal-mode", internal);
    $("send").textContent = internal ? "Add internal note" : "Send reply";
    $("composer-hint").textContent = internal ? "Only agents see internal notes." : "";
  }

  $("composer").addEventListener("submit", send);
  $("reply").addEventListener("input", typed);
  $("reply").addEventListener("blur", stopTyping);
  $("canned").addEventListener("change", insertCanned);
  $("internal").addEventListener("change", updateComposerHint);
  $("reply").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send(event);
  });
}
