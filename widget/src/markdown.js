// Safe Markdown for bot messages: paragraphs, bullet and numbered lists, **bold**,
// *italic*, `code` and links. It builds DOM nodes from text and never parses HTML, so
// markup inside a message is shown as the characters it is.

const SAFE_SCHEMES = ["http:", "https:", "mailto:"];

/** The URL if it uses a scheme we allow in a link, else null. */
export function safeUrl(raw) {
  try {
    const url = new URL(raw, "https://invalid.example/");
    // A relative or scheme-less link would resolve against the host page: refuse it.
    if (!/^[a-z][a-z0-9+.-]*:/i.test(raw.trim())) return null;
    return SAFE_SCHEMES.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function link(doc, label, href) {
  const url = safeUrl(href);
  if (url === null) return doc.createTextNode(label);
  const a = doc.createElement("a");
  a.href = url;
  a.textContent = label;
  if (!url.startsWith("mailto:")) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  return a;
}

// One alternation, tried left to right: code, link, bare URL, bold, italic.
const INLINE =
  /`([^`\n]+)`|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\*\*([^*\n]+)\*\*|(?<![\w])__([^_\n]+)__(?![\w])|\*([^*\n]+)\*|(?<![\w])_([^_\n]+)_(?![\w])/g;

/** Append the inline Markdown of `text` to `parent` as DOM nodes. */
export function renderInline(doc, parent, text) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) parent.append(doc.createTextNode(text.slice(last, match.index)));
    const [, code, label, href, bare, bold1, bold2, em1, em2] = match;
    if (code !== undefined) {
      const el = doc.createElement("code");
      el.textContent = code;
      parent.append(el);
    } else if (label !== undefined) {
      parent.append(link(doc, label, href));
    } else if (bare !== undefined) {
      parent.append(link(doc, bare, bare));
    } else {
      const el = doc.createElement(bold1 !== undefined || bold2 !== undefined ? "strong" : "em");
      renderInline(doc, el, bold1 ?? bold2 ?? em1 ?? em2);
      parent.append(el);
    }
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(doc.createTextNode(text.slice(last)));
}

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,3})[.)]\s+(.*)$/;

/** A fragment holding `text` rendered as safe Markdown. */
export function renderMarkdown(doc, text) {
  const fragment = doc.createDocumentFragment();
  let list = null;
  let paragraph = null;
  for (const line of String(text).split("\n")) {
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      const kind = bullet ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== kind) {
        list = doc.createElement(kind);
        if (numbered && numbered[1] !== "1") list.start = Number(numbered[1]);
        fragment.append(list);
      }
      paragraph = null;
      const item = doc.createElement("li");
      renderInline(doc, item, bullet ? bullet[1] : numbered[2]);
      list.append(item);
    } else if (line.trim() === "") {
      list = null;
      paragraph = null;
    } else {
      list = null;
      // A single line break inside a paragraph is a space, as in Markdown.
      if (paragraph) paragraph.append(doc.createTextNode(" "));
      else {
        paragraph = doc.createElement("p");
        fragment.append(paragraph);
      }
      renderInline(doc, paragraph, line);
    }
  }
  return fragment;
}
