/**
 * The dashboard page's script, served as `/app.js` (plain browser JavaScript in a string, so it ships
 * in dist/ without a build step). It polls the JSON API once a second, at most: calls incrementally
 * by `seq`, pending approvals, the tool registry. Every value from the store reaches the page as
 * text (`textContent`, text nodes, `title`), never as HTML: arguments are attacker-controlled. That
 * text is made visible first (`visibleText`, the same function the CLI prints through, its source
 * embedded here): a bidi control such as U+202E shows as `\u202e` instead of reordering the name.
 */

import { ProxyErrorCode } from '../jsonrpc/errors.js';
import { SHOWN_ARGUMENT_CHARS } from '../report/approval-arguments.js';
import { visibleText } from '../report/visible-text.js';

export const CLIENT_JS = String.raw`'use strict';
(function () {
  var visibleText = ${visibleText.toString()};
  /** Text made visible line by line: the newlines of pretty-printed JSON stay newlines. */
  var shown = function (text) { return String(text).split('\n').map(visibleText).join('\n'); };
  var token = document.querySelector('meta[name="ratri-token"]').getAttribute('content');
  var POLL_MS = 1000, MAX_CALLS = 2000, MAX_SHOWN = 500, SHOWN_ARGUMENT_CHARS = ${SHOWN_ARGUMENT_CHARS};
  var calls = new Map(), seq = 0, selected = null, servers = new Set();
  var callsDirty = true, toolsJson = '', cards = new Map(), now = Date.now(), skew = 0;
  var $ = function (id) { return document.getElementById(id); };

  /** An element with attributes, listeners ("on…") and children (strings become text nodes). */
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined) return;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = shown(v);
      else if (k === 'title') e.title = shown(v);
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    });
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.append(typeof c === 'string' ? shown(c) : c); });
    return e;
  }

  function api(path, body) {
    var init = { headers: { 'X-Ratri-Token': token }, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.error || ('HTTP ' + r.status));
        return data;
      });
    });
  }

  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; }
  function clock(iso) { var d = new Date(iso); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
  function span(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    return s < 60 ? s + 's' : s < 3600 ? Math.floor(s / 60) + 'm ' + (s % 60) + 's' : Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  }
  function relative(iso) { var ms = Date.parse(iso) - (now + skew); return ms >= 0 ? 'in ' + span(ms) : span(ms) + ' ago'; }
  function duration(ms) { return ms === null ? '' : ms < 1000 ? ms.toFixed(1) + ' ms' : (ms / 1000).toFixed(2) + ' s'; }
  function json(v) { try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); } }
  function bytes(n) { return n === null ? '' : n + ' bytes'; }

  /** What a call came to, and its colour class. */
  function outcome(c) {
    if (c.status === 'held') return ['held for approval', 'o-wait'];
    if (c.status === 'running') return ['running', 'o-run'];
    if (c.status === 'evaluated') return [c.approval === 'approved' ? 'approved, forwarding' : '', 'o-run'];
    if (c.status === 'completed') return [c.uninspected ? 'ok (not inspected)' : 'ok', 'o-ok'];
    if (c.isError) return ['tool error (isError)', 'o-bad'];
    if (!c.error) return ['failed', 'o-bad'];
    if (c.error.code === ${ProxyErrorCode.blocked}) return ['blocked (${ProxyErrorCode.blocked})', 'o-bad'];
    if (c.error.code === ${ProxyErrorCode.approvalDenied}) return [(c.approval === 'rejected' ? 'rejected' : c.approval === 'timeout' ? 'approval timed out' : 'not approved') + ' (${ProxyErrorCode.approvalDenied})', 'o-bad'];
    if (c.error.code === null) return [c.error.message, 'o-bad'];
    return ['error ' + c.error.code + ': ' + c.error.message, 'o-bad'];
  }

  function decisionCell(c) {
    var td = el('td');
    if (c.decision) td.append(el('span', { class: 'badge d-' + c.decision, text: c.decision }));
    if (c.approval && c.approval !== 'pending') td.append(el('span', { class: 'monitor', text: '→ ' + c.approval }));
    if (c.enforced === false) td.append(el('span', { class: 'monitor', text: 'monitor', title: 'monitor mode: recorded, not applied' }));
    return td;
  }

  function visible(c) {
    var tool = $('filter-tool').value.trim().toLowerCase(), decision = $('filter-decision').value, server = $('filter-server').value;
    if (tool && c.tool.toLowerCase().indexOf(tool) === -1) return false;
    if (decision && c.decision !== decision) return false;
    if (server && c.serverName !== server) return false;
    return true;
  }

  function details(c) {
    var rows = [
      ['Tool', c.tool], ['Server', c.serverName], ['Agent', c.agentKey + ' (' + c.environment + ')'], ['Session', c.sessionId],
      ['Request id', c.requestId], ['Time', c.ts], ['Action', c.action], ['Risk', c.riskLevel],
      ['Resource', c.resource ? c.resource.type + ': ' + c.resource.value : null],
      ['Decision', c.decision ? c.decision + (c.enforced === false ? ' (monitor mode: not applied)' : '') : null],
      ['Rule', c.ruleId], ['Reason', c.reason],
      ['Approval', c.approvalId ? c.approvalId + ' — ' + c.approval : null],
      ['Duration', duration(c.durationMs)], ['Arguments size', bytes(c.argumentsSize)], ['Result size', bytes(c.resultSize)],
      ['Error', c.error ? (c.error.code === null ? '' : c.error.code + ': ') + c.error.message : c.isError ? 'the tool answered isError: true' : null],
    ];
    var dl = el('dl');
    rows.forEach(function (r) { if (r[1] !== null && r[1] !== '') dl.append(el('dt', { text: r[0] }), el('dd', { text: String(r[1]) })); });
    var args = c.arguments === null ? 'not recorded' : json(c.arguments);
    return el('tr', { class: 'detail' }, [el('td', { class: 'details', colspan: 9 }, [dl, el('div', { class: 'muted', text: 'Arguments (redacted)' }), el('pre', { text: args })])]);
  }

  function callRow(c) {
    var o = outcome(c), res = c.resource ? c.resource.value : '';
    var tr = el('tr', { class: 'call' + (selected === c.id ? ' selected' : ''), tabindex: 0, 'data-id': c.id, 'aria-expanded': String(selected === c.id) }, [
      el('td', { class: 'mono', text: clock(c.ts), title: c.ts }), el('td', { text: c.serverName }), el('td', { class: 'mono', text: c.tool }),
      el('td', { text: c.action || '' }), el('td', { class: 'resource mono', text: res, title: res }), decisionCell(c),
      el('td', { class: 'mono', text: c.ruleId || '' }), el('td', { class: 'num', text: duration(c.durationMs) }), el('td', { class: o[1], text: o[0] }),
    ]);
    var toggle = function () { selected = selected === c.id ? null : c.id; callsDirty = true; renderCalls(); };
    tr.addEventListener('click', toggle);
    tr.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } });
    return tr;
  }

  function renderCalls() {
    if (!callsDirty) return;
    callsDirty = false;
    var all = Array.from(calls.values()).sort(function (a, b) { return b.firstSeq - a.firstSeq; });
    var shown = all.filter(visible), body = $('calls').tBodies[0], rows = [];
    shown.slice(0, MAX_SHOWN).forEach(function (c) { rows.push(callRow(c)); if (selected === c.id) rows.push(details(c)); });
    body.replaceChildren.apply(body, rows);
    $('no-calls').classList.toggle('hidden', all.length > 0);
    $('calls-shown').textContent = all.length ? Math.min(shown.length, MAX_SHOWN) + ' of ' + all.length + ' calls' : '';
  }

  function syncServers() {
    var select = $('filter-server'), have = new Set(Array.from(select.options).map(function (o) { return o.value; }));
    Array.from(servers).sort().forEach(function (s) { if (!have.has(s)) select.append(el('option', { value: s, text: s })); });
  }

  function resolve(a, card, approve, scope) {
    var buttons = card.querySelectorAll('button'), msg = card.querySelector('.message');
    buttons.forEach(function (b) { b.disabled = true; });
    msg.className = 'message'; msg.textContent = 'sending…';
    api('/api/approvals/' + encodeURIComponent(a.id) + '/resolve', { approve: approve, scope: scope }).then(function (r) {
      msg.textContent = shown(approve ? 'approved: ' + (r.approvedNote || 'the waiting proxy forwards the call') + (r.note ? '. Always: ' + r.note + '.' : '') : 'rejected: the host gets error -32002');
      if (r.note || r.grant) card.keepUntil = Date.now() + 8000;
      card.classList.add('done');
      setTimeout(poll, 0);
    }, function (err) {
      msg.className = 'message error'; msg.textContent = shown(err.message);
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  /** An approval's arguments, whole; past the ceiling, a note and a button that shows them whole. */
  function argumentsBlock(a) {
    var compact = JSON.stringify(a.arguments);
    if (compact.length <= SHOWN_ARGUMENT_CHARS) return el('pre', { text: json(a.arguments) });
    var pre = el('pre', { class: 'args-too-large', text: 'too large to show here: ' + new TextEncoder().encode(compact).length + ' bytes' });
    var button = el('button', { type: 'button', class: 'show-all', text: 'Show all', onclick: function () { pre.textContent = json(a.arguments); button.remove(); } });
    return el('div', {}, [pre, button]);
  }

  function approvalCard(a) {
    var expires = el('span', { class: 'muted expires' });
    var hostGone = el('div', { class: 'host-gone hidden', text: 'The host is no longer waiting for this call (it cancelled it, or the hold ended): approving it makes a one-time grant, so the same call passes when the host sends it again.' });
    var card = el('div', { class: 'approval', 'data-id': a.id }, [
      el('div', { class: 'head' }, [el('span', { class: 'tool mono', text: a.serverName + '.' + a.tool }),
        el('span', { class: 'muted', text: 'agent ' + a.agentKey + ' · ' + a.id }), expires]),
      el('div', { class: 'why' }, [el('span', { class: 'badge d-require_approval', text: a.ruleId || 'approval' }), ' ', a.reason || '']),
      hostGone,
      el('div', { class: 'muted', text: 'Arguments (redacted)' }), argumentsBlock(a),
      el('div', { class: 'actions' }, [
        el('button', { class: 'approve', type: 'button', text: 'Approve', title: 'Let this one call through', onclick: function () { resolve(a, card, true, 'once'); } }),
        el('button', { class: 'always', type: 'button', text: 'Approve always', title: 'Let it through, and stop asking for this tool (trusts its current definition)', onclick: function () { resolve(a, card, true, 'always'); } }),
        el('button', { class: 'reject', type: 'button', text: 'Reject', title: 'Refuse the call: the host gets error -32002', onclick: function () { resolve(a, card, false, 'once'); } }),
        el('span', { class: 'message', role: 'status' }),
      ]),
    ]);
    card.expires = expires;
    card.hostGone = hostGone;
    return card;
  }

  function renderApprovals(list) {
    var box = $('approvals'), ids = new Set();
    list.slice().reverse().forEach(function (a) {
      ids.add(a.id);
      var card = cards.get(a.id);
      if (!card) { card = approvalCard(a); cards.set(a.id, card); box.append(card); }
      card.expires.textContent = 'requested ' + relative(a.requestedAt) + ' · expires ' + relative(a.expiresAt);
      card.hostGone.classList.toggle('hidden', !a.hostGoneAt); // the host may give up while the card is shown
    });
    // A card approved "always" stays a while, so its note on what that did can be read.
    cards.forEach(function (card, id) { if (!ids.has(id) && !(card.keepUntil > Date.now())) { card.remove(); cards.delete(id); } });
    $('approval-count').textContent = String(list.length);
    $('approval-count').classList.toggle('some', list.length > 0);
    $('no-approvals').classList.toggle('hidden', list.length > 0);
  }

  function renderTools(tools) {
    var text = JSON.stringify(tools);
    if (text === toolsJson) return;
    toolsJson = text;
    var sorted = tools.slice().sort(function (a, b) { return (b.changed - a.changed) || (a.serverName + a.name).localeCompare(b.serverName + b.name); });
    var changed = sorted.filter(function (t) { return t.changed; }).length;
    $('tools').tBodies[0].replaceChildren.apply($('tools').tBodies[0], sorted.map(function (t) {
      return el('tr', { class: t.changed ? 'changed' : '' }, [
        el('td', { text: t.serverName }), el('td', { class: 'mono', text: t.name }), el('td', { text: t.agentKey }),
        el('td', {}, [t.changed ? el('span', { class: 'badge d-block', text: 'CHANGED', title: 'changed ' + (t.changedAt || '') + '; trust it with: ratri tools trust ' + t.serverName + '.' + t.name })
          : el('span', { class: 'badge d-allow', text: 'trusted' })]),
        el('td', { text: relative(t.lastSeen), title: t.lastSeen }), el('td', { text: t.definition.description || '' }),
      ]);
    }));
    $('changed-count').textContent = changed + ' changed';
    $('changed-count').classList.toggle('some', changed > 0);
    $('no-tools').classList.toggle('hidden', tools.length > 0);
  }

  var grantsJson = '';
  function renderGrants(grants) {
    var text = JSON.stringify(grants);
    if (text === grantsJson) return;
    grantsJson = text;
    $('grants').tBodies[0].replaceChildren.apply($('grants').tBodies[0], grants.map(function (g) {
      return el('tr', {}, [
        el('td', { class: 'mono', text: g.id, title: 'revoke with: ratri grants revoke ' + g.id }), el('td', { text: g.kind === 'once' ? 'once (late approval)' : 'always' }),
        el('td', { class: 'mono', text: g.serverName + '.' + g.tool }), el('td', { text: g.agentKey }),
        el('td', { text: g.argsMatch ? 'these arguments only' : 'any' }), el('td', { class: 'mono', text: (g.approvalId || '') + (g.createdBy ? ' by ' + g.createdBy : '') }),
        el('td', { text: g.expiresAt ? relative(g.expiresAt) : 'until revoked', title: g.expiresAt || '' }),
      ]);
    }));
    $('grant-count').textContent = String(grants.length);
    $('no-grants').classList.toggle('hidden', grants.length > 0);
  }

  function status(ok, text) { var s = $('status'); s.className = 'status ' + (ok ? 'live' : 'down'); s.textContent = text; }

  var timer = null, running = false;
  function poll() {
    if (running) return;
    running = true; clearTimeout(timer);
    Promise.all([api('/api/calls?afterSeq=' + seq), api('/api/approvals'), api('/api/tools'), api('/api/grants')]).then(function (r) {
      var c = r[0];
      now = Date.now(); skew = Date.parse(r[1].now) - now;
      if (c.reset) { calls.clear(); selected = null; }
      c.calls.forEach(function (row) { calls.set(row.id, row); servers.add(row.serverName); });
      if (c.calls.length || c.reset) callsDirty = true;
      if (calls.size > MAX_CALLS) Array.from(calls.values()).sort(function (a, b) { return a.firstSeq - b.firstSeq; })
        .slice(0, calls.size - MAX_CALLS).forEach(function (old) { calls.delete(old.id); });
      seq = c.seq;
      syncServers(); renderCalls(); renderApprovals(r[1].approvals); renderTools(r[2].tools); renderGrants(r[3].grants);
      status(true, 'live · updated ' + clock(new Date().toISOString()));
    }).catch(function (err) {
      status(false, 'cannot reach the dashboard: ' + err.message);
    }).then(function () { running = false; timer = setTimeout(poll, POLL_MS); });
  }

  ['filter-tool', 'filter-decision', 'filter-server'].forEach(function (id) {
    $(id).addEventListener('input', function () { callsDirty = true; renderCalls(); });
  });
  poll();
})();
`;
