// What arrives from Rasa's socket.io channel, reduced to what the widget shows.

/** The parts of a Rasa socket.io message we display; anything else is dropped. */
export function normalizeMessage(raw) {
  const replies = raw.quick_replies || raw.buttons || [];
  const attachment = raw.attachment || {};
  const image = raw.image || (attachment.type === "image" && attachment.payload?.src) || null;
  return {
    text: typeof raw.text === "string" ? raw.text : "",
    quickReplies: Array.isArray(replies)
      ? replies
          .filter((r) => r && typeof r.title === "string" && typeof r.payload === "string")
          .map((r) => ({ title: r.title, payload: r.payload }))
      : [],
    image: typeof image === "string" ? image : null,
  };
}

/** The handoff change a message carries (Rasa passes a custom payload's `data` as the message). */
export function handoffChange(raw) {
  const change = raw.handoff || raw.custom?.handoff || raw.data?.handoff;
  if (!change || !["joined", "left", "closed"].includes(change.state)) return null;
  return { state: change.state, agentName: String(change.agent_name || "An agent") };
}

export function isRatingRequest(message) {
  return message.quickReplies.length > 0 && message.quickReplies.every((r) => r.payload.startsWith("/rate_service"));
}

export function textColorFor(color) {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!hex) return "#ffffff";
  const digits = hex[1].length === 3 ? hex[1].replace(/./g, "$&$&") : hex[1];
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16) / 255);
  // Relative luminance (WCAG): dark text on light brand colours.
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.4 ? "#1c2333" : "#ffffff";
}
