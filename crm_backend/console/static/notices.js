// Short messages for the agent (toasts), and the wording of the API's refusals.

import { ApiError } from "./api.js";

let timer = null;

/** Show `text` for a few seconds; kind: info, warning or error. */
export function notify(text, kind = "info") {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => (box.hidden = true), 6000);
}

/** What to tell the agent about a failed request. */
export function explain(error) {
  if (!(error instanceof ApiError)) return String(error);
  if (error.error === "handoff_already_claimed") return "Another agent took it.";
  if (error.error === "rasa_unavailable") return "The assistant cannot deliver messages right now. Your text is kept: try again.";
  if (typeof error.detail === "string") return error.detail;
  return "The request was refused.";
}
