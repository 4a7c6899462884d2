/**
 * The one stylesheet of every page, served from our own origin (CSP style-src 'self', no inline
 * styles). Its URL carries a hash of its content, so it can be cached for a year and still change.
 */

const CSS = `
:root {
  --ink: #1a1d21; --muted: #4a5360; --line: #c9ced6; --paper: #ffffff; --page: #f3f5f8;
  --accent: #1f4fd1; --accent-ink: #ffffff; --accent-hover: #173c9f;
  --warn-bg: #fff4d6; --warn-line: #b07800; --error-bg: #fde8e8; --error-line: #b42318;
  --focus: #ffbf47;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; min-height: 100vh; background: var(--page); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--ink); }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: 1rem; top: 1rem; z-index: 1; }
header.site { padding: 1rem; text-align: center; }
header.site a { color: var(--ink); font-weight: 700; text-decoration: none; }
main {
  width: 100%; max-width: 36rem; margin: 0 auto 2rem; padding: 1.5rem 1.25rem;
  background: var(--paper); border: 1px solid var(--line); border-radius: 12px;
}
@media (max-width: 40rem) { main { border-radius: 0; border-left: 0; border-right: 0; } }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.125rem; margin: 1.5rem 0 .5rem; }
p { margin: 0 0 1rem; }
.muted { color: var(--muted); }
code { font: .875em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
strong, .break { overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=email], input[type=text] {
  display: block; width: 100%; min-height: 44px; padding: .5rem .75rem; font: inherit; color: var(--ink);
  background: var(--paper); border: 2px solid var(--muted); border-radius: 6px;
}
button, .button {
  display: inline-flex; align-items: center; justify-content: center; min-height: 44px; padding: .5rem 1.25rem;
  font: inherit; font-weight: 600; text-decoration: none; cursor: pointer; border-radius: 6px;
  border: 2px solid var(--accent); background: var(--paper); color: var(--accent);
}
button.primary, .button.primary { background: var(--accent); color: var(--accent-ink); }
button.primary:hover, .button.primary:hover { background: var(--accent-hover); border-color: var(--accent-hover); }
.button.block, button.block { display: flex; width: 100%; margin-top: 1rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.5rem; }
.actions > * { flex: 1 1 10rem; }
.notice { padding: .75rem 1rem; border-left: 4px solid var(--warn-line); background: var(--warn-bg); border-radius: 4px; }
.notice.error { border-color: var(--error-line); background: var(--error-bg); }
.divider { display: flex; align-items: center; gap: .75rem; margin: 1.5rem 0 0; color: var(--muted); }
.divider::before, .divider::after { content: ""; flex: 1; border-top: 1px solid var(--line); }
.client { display: flex; gap: 1rem; align-items: center; margin-bottom: 1rem; }
.client img { width: 48px; height: 48px; border-radius: 8px; object-fit: contain; }
fieldset { border: 0; margin: 1rem 0 0; padding: 0; }
legend { font-weight: 600; padding: 0; margin-bottom: .5rem; }
ul.scopes { list-style: none; margin: 0; padding: 0; border-top: 1px solid var(--line); }
ul.scopes li { display: flex; gap: .75rem; align-items: flex-start; padding: .75rem 0; border-bottom: 1px solid var(--line); }
ul.scopes input { width: 1.25rem; height: 1.25rem; margin: .15rem 0 0; flex: none; accent-color: var(--accent); }
ul.scopes label { margin: 0; font-weight: 400; }
ul.scopes li.ungrantable label { color: var(--muted); }
.tag { display: inline-block; font-size: .8125rem; padding: 0 .4rem; border-radius: 4px; background: var(--page); border: 1px solid var(--line); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
nav ul { padding-left: 1.25rem; }
nav li { margin: .25rem 0; }
`.trim();

/** FNV-1a: a stable content fingerprint computed synchronously at load (not a security function). */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

export const STYLESHEET_PATH = `/assets/style-${fingerprint(CSS)}.css`;

/** GET /assets/style-<hash>.css; any other /assets/* is not ours. */
export function serveStylesheet(path: string): Response {
  if (path !== STYLESHEET_PATH)
    return new Response("not found", { status: 404, headers: { "Cache-Control": "no-store" } });
  return new Response(CSS, {
    headers: {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
