/**
 * The dashboard's page and its style sheet, generated from strings so they ship inside dist/ and
 * need no build step, no network and no CDN. The script is `client.ts`, served as `/app.js`: the
 * page has no inline script, so its Content-Security-Policy can forbid inline scripts altogether.
 */

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What the page is made with. */
export interface PageInput {
  /** The per-run token the script sends back in `X-Ratri-Token`. */
  token: string;
  /** The store's path, shown in the header. */
  store: string;
}

/** The one HTML document the dashboard serves at `/`. */
export function renderPage({ token, store }: PageInput): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="ratri-token" content="${escapeHtml(token)}">
<title>ratri dashboard</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>ratri <span>dashboard</span></h1>
  <span class="store" title="The SQLite store this dashboard reads">store ${escapeHtml(store)}</span>
  <span id="status" class="status" role="status">connecting…</span>
</header>
<main>
<section id="approvals-section" aria-labelledby="approvals-title">
  <h2 id="approvals-title">Pending approvals <span id="approval-count" class="count">0</span></h2>
  <p id="no-approvals" class="empty">No call is waiting for approval.</p>
  <div id="approvals"></div>
</section>
<section aria-labelledby="calls-title">
  <h2 id="calls-title">Tool calls</h2>
  <div class="filters">
    <label>Tool <input id="filter-tool" type="search" placeholder="e.g. write_file" autocomplete="off"></label>
    <label>Decision <select id="filter-decision">
      <option value="">all</option><option>allow</option><option>warn</option><option>block</option><option>require_approval</option>
    </select></label>
    <label>Server <select id="filter-server"><option value="">all</option></select></label>
    <span id="calls-shown" class="muted"></span>
  </div>
  <div class="scroll">
  <table id="calls">
    <thead><tr><th>Time</th><th>Server</th><th>Tool</th><th>Action</th><th>Resource</th><th>Decision</th><th>Rule</th><th>Duration</th><th>Outcome</th></tr></thead>
    <tbody></tbody>
  </table>
  </div>
  <p id="no-calls" class="empty">No tool calls yet. They appear here as the proxies that use this store record them.</p>
</section>
<section aria-labelledby="tools-title">
  <h2 id="tools-title">Tool registry <span id="changed-count" class="count changed-count">0 changed</span></h2>
  <div class="scroll">
  <table id="tools">
    <thead><tr><th>Server</th><th>Tool</th><th>Agent</th><th>Definition</th><th>Last seen</th><th>Description</th></tr></thead>
    <tbody></tbody>
  </table>
  </div>
  <p id="no-tools" class="empty">No tools registered yet: they are registered when a host lists them (tools/list) through ratri.</p>
</section>
<section aria-labelledby="grants-title">
  <h2 id="grants-title">Grants <span id="grant-count" class="count">0</span></h2>
  <div class="scroll">
  <table id="grants">
    <thead><tr><th>Grant</th><th>Kind</th><th>Tool</th><th>Agent</th><th>Arguments</th><th>From</th><th>Expires</th></tr></thead>
    <tbody></tbody>
  </table>
  </div>
  <p id="no-grants" class="empty">No grants: "Approve always" makes one, and so does approving a call whose host gave up. Revoke with: ratri grants revoke ID</p>
</section>
</main>
</body>
</html>
`;
}

/** The style sheet, served as `/app.css`. */
export const PAGE_CSS = `
:root { color-scheme: light dark; --bg: #f7f7f8; --fg: #1d1d1f; --muted: #6b6b76; --card: #fff; --line: #e2e2e8;
  --allow: #17803d; --warn: #a15c00; --block: #c0262d; --ask: #6941c6; --accent: #2f5bd3; --hover: #eef2fd; --sel: #e3e9fc; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #141417; --fg: #e8e8ec; --muted: #9a9aa6; --card: #1d1d22; --line: #31313a;
    --allow: #4cc77a; --warn: #f0a63a; --block: #ff6b6b; --ask: #a98bff; --accent: #7c9cff; --hover: #24283a; --sel: #2a3152; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; } h1 span { font-weight: 400; color: var(--muted); }
h2 { font-size: 15px; margin: 0 0 10px; display: flex; align-items: center; gap: 8px; }
.store { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; overflow-wrap: anywhere; }
.status { margin-left: auto; font-size: 12px; color: var(--muted); }
.status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--muted); }
.status.live::before { background: var(--allow); } .status.down { color: var(--block); } .status.down::before { background: var(--block); }
main { padding: 16px 24px 40px; display: grid; gap: 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.count { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; background: var(--line); }
#approval-count.some { background: var(--ask); color: #fff; }
.changed-count.some { background: var(--block); color: #fff; }
.empty { color: var(--muted); margin: 4px 0; } .muted { color: var(--muted); font-size: 12px; }
.hidden { display: none; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 6px 8px; white-space: nowrap; }
td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
#calls tbody tr.call { cursor: pointer; } #calls tbody tr.call:hover { background: var(--hover); }
#calls tbody tr.selected { background: var(--sel); }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
td.resource { max-width: 320px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.d-allow { color: var(--allow); } .d-warn { color: var(--warn); } .d-block { color: var(--block); } .d-require_approval { color: var(--ask); }
.o-ok { color: var(--allow); } .o-bad { color: var(--block); } .o-wait { color: var(--ask); } .o-run { color: var(--muted); }
.monitor { color: var(--muted); font-size: 11px; margin-left: 4px; }
.filters { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; margin-bottom: 10px; }
.filters label { display: flex; gap: 6px; align-items: center; font-size: 12px; color: var(--muted); }
input, select { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
td.details { background: var(--bg); padding: 12px 16px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; font-size: 12px; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
pre { margin: 6px 0 0; padding: 8px 10px; background: var(--card); border: 1px solid var(--line); border-radius: 6px; font-size: 12px;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 320px; overflow: auto; }
.approval { border: 1px solid var(--ask); border-left-width: 4px; border-radius: 6px; padding: 10px 12px; margin-bottom: 10px; }
.approval .head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.approval .tool { font-weight: 700; font-size: 14px; }
.approval .why { margin: 4px 0; }
.approval .host-gone { margin: 4px 0; color: var(--block); }
.actions { display: flex; gap: 8px; margin-top: 8px; align-items: center; flex-wrap: wrap; }
button { font: inherit; font-weight: 600; border-radius: 6px; padding: 5px 14px; cursor: pointer; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
button:disabled { opacity: .5; cursor: default; }
button.approve { background: var(--allow); border-color: var(--allow); color: #fff; }
button.always { border-color: var(--allow); color: var(--allow); }
button.reject { background: var(--block); border-color: var(--block); color: #fff; }
.message { font-size: 12px; } .message.error { color: var(--block); }
tr.changed td { background: color-mix(in srgb, var(--block) 10%, transparent); }
`;
