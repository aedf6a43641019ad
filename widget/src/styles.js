// The widget's look, inside its shadow root so the host page's CSS and ours never mix.
// System fonts only: nothing is fetched from a font service.

export const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; }
.sw {
  --sw-color: #2454d6;
  --sw-on-color: #ffffff;
  --sw-bg: #ffffff;
  --sw-text: #1c2333;
  --sw-muted: #5b6475;
  --sw-bubble: #f0f2f7;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--sw-text);
}
.sw-sr {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid #ffb020; outline-offset: 2px; }
.sw-launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 60px; height: 60px; border-radius: 50%; border: 0;
  background: var(--sw-color); color: var(--sw-on-color);
  box-shadow: 0 6px 20px rgba(20, 30, 60, .28);
  display: grid; place-items: center; transition: transform .15s ease;
}
.sw-launcher:hover { transform: scale(1.06); }
.sw-launcher svg { width: 28px; height: 28px; fill: currentColor; }
.sw-panel {
  position: fixed; right: 20px; bottom: 92px; z-index: 2147483001;
  width: min(380px, calc(100vw - 24px)); height: min(600px, calc(100vh - 112px));
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--sw-bg); border-radius: 16px;
  box-shadow: 0 12px 40px rgba(20, 30, 60, .25);
}
.sw-panel[hidden] { display: none; }
.sw-header {
  display: flex; align-items: center; gap: 12px; padding: 14px 16px;
  background: var(--sw-color); color: var(--sw-on-color);
}
.sw-heading { flex: 1; min-width: 0; }
.sw-title { margin: 0; font-size: 16px; font-weight: 650; overflow-wrap: anywhere; }
.sw-subtitle { margin: 2px 0 0; font-size: 13px; opacity: .9; }
.sw-subtitle::before {
  content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px;
  border-radius: 50%; background: #3ddc84; vertical-align: 1px;
}
.sw[data-status="offline"] .sw-subtitle::before,
.sw[data-status="connecting"] .sw-subtitle::before { background: #c9ced8; }
.sw-close {
  flex: none; width: 36px; height: 36px; border: 0; border-radius: 50%;
  background: transparent; color: inherit; font-size: 24px; line-height: 1;
}
.sw-close:hover { background: rgba(255, 255, 255, .18); }
.sw-banner {
  padding: 8px 16px; font-size: 13px; background: #fff4d6; color: #5c4300;
  border-bottom: 1px solid #f1dfa6;
}
.sw-banner[hidden] { display: none; }
.sw-log {
  flex: 1; margin: 0; padding: 16px 14px 8px; list-style: none;
  overflow-y: auto; overflow-x: hidden; overscroll-behavior: contain;
}
.sw-msg { display: flex; flex-direction: column; margin: 0 0 12px; max-width: 100%; }
.sw-msg-user { align-items: flex-end; }
.sw-msg-bot { align-items: flex-start; }
.sw-bubble {
  max-width: 85%; padding: 9px 13px; border-radius: 16px;
  overflow-wrap: anywhere; word-break: break-word;
}
.sw-msg-bot .sw-bubble { background: var(--sw-bubble); border-bottom-left-radius: 4px; }
.sw-msg-user .sw-bubble {
  background: var(--sw-color); color: var(--sw-on-color); border-bottom-right-radius: 4px;
  white-space: pre-wrap;
}
.sw-msg-user.sw-pending .sw-bubble { opacity: .6; }
.sw-bubble p { margin: 0; }
.sw-bubble p + p, .sw-bubble p + ul, .sw-bubble p + ol, .sw-bubble ul + p, .sw-bubble ol + p { margin-top: 6px; }
.sw-bubble ul, .sw-bubble ol { margin: 4px 0; padding-left: 20px; }
.sw-bubble a { color: inherit; text-decoration: underline; }
.sw-msg-bot .sw-bubble a { color: #1d47b8; }
.sw-bubble code { font: 13px ui-monospace, Menlo, Consolas, monospace; background: rgba(0,0,0,.06); padding: 0 3px; border-radius: 4px; }
.sw-bubble img { display: block; max-width: 100%; height: auto; border-radius: 10px; }
.sw-meta { margin-top: 3px; padding: 0 4px; font-size: 11.5px; color: var(--sw-muted); }
.sw-notice {
  margin: 4px auto 12px; padding: 4px 12px; max-width: 90%; text-align: center;
  font-size: 13px; color: var(--sw-muted); background: #f6f7fa; border-radius: 999px;
}
.sw-replies { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; max-width: 100%; }
.sw-replies button {
  padding: 6px 14px; border-radius: 999px; background: var(--sw-bg);
  border: 1.5px solid var(--sw-color); color: var(--sw-color); font-size: 14px;
}
.sw-replies button:hover { background: var(--sw-color); color: var(--sw-on-color); }
.sw-rating button { min-width: 42px; }
.sw-typing { display: flex; gap: 4px; padding: 0 18px 10px; }
.sw-typing[hidden] { display: none; }
.sw-typing span:not(.sw-sr) {
  width: 8px; height: 8px; border-radius: 50%; background: #a3aab8;
  animation: sw-blink 1.2s infinite ease-in-out;
}
.sw-typing span:nth-child(2) { animation-delay: .2s; }
.sw-typing span:nth-child(3) { animation-delay: .4s; }
@keyframes sw-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .sw-typing span { animation: none; } .sw-launcher { transition: none; } }
.sw-composer {
  display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px;
  border-top: 1px solid #e3e6ee; background: var(--sw-bg);
}
.sw-input {
  flex: 1; min-width: 0; resize: none; max-height: 120px; padding: 9px 12px;
  border: 1.5px solid #cfd4df; border-radius: 20px; font: inherit; font-size: 16px;
  color: var(--sw-text); background: var(--sw-bg);
}
.sw-input:focus { border-color: var(--sw-color); outline: none; box-shadow: 0 0 0 3px rgba(36, 84, 214, .18); }
.sw-send {
  flex: none; width: 42px; height: 42px; border: 0; border-radius: 50%;
  background: var(--sw-color); color: var(--sw-on-color); display: grid; place-items: center;
}
.sw-send svg { width: 20px; height: 20px; fill: currentColor; }
@media (max-width: 480px) {
  .sw-panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
  .sw-open .sw-launcher { display: none; }
}
`;
