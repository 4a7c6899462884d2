/**
 * The one stylesheet of every page, served from our own origin (CSP style-src 'self', no inline
 * styles). Its URL carries a hash of its content, so it can be cached for a year and still change.
 */
import { fnv1a } from "../platform/fnv1a";

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
input[type=email], input[type=text], input[type=url] {
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
.vh { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip-path: inset(50%); white-space: nowrap; border: 0; }
/* ---- scope areas (consent page, connected apps, scope picker): one line per area, rows on demand ---- */
fieldset.scope-area { border: 0; border-top: 1px solid var(--line); margin: 0; padding: .625rem 0; min-width: 0; }
.scope-area:last-of-type { border-bottom: 1px solid var(--line); }
.area-head { display: flex; gap: .625rem; align-items: center; }
.area-head input, ul.resources input { width: 1.25rem; height: 1.25rem; margin: 0; flex: none; accent-color: var(--accent); }
.area-head label { margin: 0; display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: center; }
.area-summary { margin: .125rem 0 0 1.875rem; color: var(--ink); }
.scope-area details > summary { margin: .125rem 0 0; }
.scope-area details > summary .area-summary { margin: 0; }
.choose { white-space: nowrap; }
.area-off { display: none; }
.scope-area details, .scope-area .ungrantable { margin: .25rem 0 0 1.875rem; }
.ungrantable { color: var(--muted); font-size: .875rem; margin-bottom: 0; }
/* An area switched off refuses all of it (scope-groups.ts): say so and strike its rows, no script. */
.scope-area:has(.area-switch:not(:checked)) .area-off { display: inline; }
.scope-area:has(.area-switch:not(:checked)) details { text-decoration: line-through; color: var(--muted); }
fieldset.scope-area.picker { margin-top: .5rem; }
fieldset.scope-area legend { font-weight: 600; padding: 0; }
.scope-area legend .tag, .area-head .tag, ul.area-lines .tag { margin-left: .5rem; font-weight: 400; }
ul.area-lines { list-style: none; margin: 0; padding: 0; }
ul.area-lines li { margin: 0 0 .25rem; }
ul.resources { list-style: none; margin: .375rem 0 0; padding: 0; }
ul.resources li { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .25rem 0; border-bottom: 1px solid var(--line); }
ul.resources .resource { flex: 1 1 6rem; min-width: 0; overflow-wrap: anywhere; }
ul.resources .box { display: inline-flex; gap: .375rem; align-items: center; min-width: 4.75rem; }
ul.resources label { margin: 0; font-weight: 400; }
.tag { display: inline-block; font-size: .8125rem; padding: 0 .4rem; border-radius: 4px; background: var(--page); border: 1px solid var(--line); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
nav ul { padding-left: 1.25rem; }
nav li { margin: .25rem 0; }
/* ---- settings pages (src/pages/settings/*): wider frame, cards, forms, scope grid ---- */
main:has(> .settings) { max-width: 60rem; }
nav.settings-nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; padding: 0; margin: 0 0 1.25rem; }
nav.settings-nav a[aria-current=page] { color: var(--ink); font-weight: 700; text-decoration: none; }
.notice.success { border-color: #1d7a3a; background: #e6f4ea; }
.field-hint { color: var(--muted); font-size: .875rem; font-weight: 400; margin: 0 0 .375rem; }
.field-hint.block, span.block { display: block; }
textarea, select, .copy-row input {
  display: block; width: 100%; min-height: 44px; padding: .5rem .75rem; font: inherit; color: var(--ink);
  background: var(--paper); border: 2px solid var(--muted); border-radius: 6px;
}
textarea, .copy-row input { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9375rem; }
input[readonly] { background: var(--page); }
.copy-row { display: flex; flex-wrap: wrap; gap: .5rem; }
.copy-row input { flex: 1 1 14rem; width: auto; min-width: 0; }
.check { display: flex; gap: .625rem; align-items: flex-start; margin: 1rem 0 0; }
.check input, ul.choices input { width: 1.25rem; height: 1.25rem; margin: .15rem 0 0; flex: none; accent-color: var(--accent); }
.check label, ul.choices label { margin: 0; font-weight: 400; }
ul.choices label { font-weight: 600; }
ul.choices, ul.plain, ul.card-list, ol.events { list-style: none; margin: 0; padding: 0; }
ul.choices li { display: flex; gap: .625rem; align-items: flex-start; padding: .75rem 0; border-bottom: 1px solid var(--line); }
.check.everything { margin: .25rem 0 .25rem; padding-bottom: .5rem; border-bottom: 1px solid var(--line); }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 0 0 1rem; min-width: 0; }
.card h2, .card h3 { margin: 0 0 .5rem; font-size: 1.0625rem; overflow-wrap: anywhere; }
.card form { margin: 0; }
p.tags { margin: 0 0 .75rem; display: flex; flex-wrap: wrap; gap: .375rem; }
.tag.warn { background: var(--warn-bg); border-color: var(--warn-line); }
details summary { cursor: pointer; color: var(--accent); margin-top: .25rem; }
button.danger, a.button.danger { border-color: var(--error-line); color: var(--error-line); }
button.danger.primary { background: var(--error-line); color: #fff; }
button.danger.primary:hover { background: #8f1b12; border-color: #8f1b12; }
ul.danger-zone li { padding: .5rem 0; border-bottom: 1px solid var(--line); }
ul.consequences { padding-left: 1.25rem; }
ul.consequences li { margin: .25rem 0; }
form.filter { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .75rem; margin-bottom: 1rem; }
form.filter > div { flex: 1 1 14rem; }
form.filter label { margin-top: 0; }
ol.events li { padding: .75rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
ol.events p { margin: 0 0 .25rem; }
ol.events .event-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 1rem; }
code.detail { display: block; color: var(--muted); }
ol.events p.sentence { font-weight: 600; }
section.chart svg { display: block; max-width: 100%; height: auto; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: .25rem 0 .5rem; padding: 0; font-size: .875rem; }
ul.legend li { display: flex; align-items: center; gap: .375rem; }
table.numbers { border-collapse: collapse; font-size: .875rem; margin-top: .5rem; }
table.numbers th, table.numbers td { padding: .125rem .75rem .125rem 0; text-align: right; border-bottom: 1px solid var(--line); }
table.numbers th[scope=row], table.numbers thead th:first-child { text-align: left; font-weight: 400; }
nav.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 1rem; }
/* ---- end of settings pages ---- */
/* ---- device sign-in (/device) ---- */
strong.user-code { white-space: nowrap; }
input.user-code { font: 600 1.5rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; letter-spacing: .15em; text-transform: uppercase; }
/* ---- end of device sign-in ---- */
`.trim();

/** The stylesheet's URL carries its content's fingerprint, computed synchronously at load. */
export const STYLESHEET_PATH = `/assets/style-${fnv1a(CSS).toString(16).padStart(8, "0")}.css`;

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
