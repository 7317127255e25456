// Small DOM and formatting helpers shared by the views.

// h('a', {href: '#'}, 'text', child…): attributes starting with `on` are listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const machineHref = (arn) => `#/machines/${encodeURIComponent(arn)}`;
export const executionHref = (arn) => `#/executions/${encodeURIComponent(arn)}`;

// The API sends epoch seconds (with a millisecond fraction).
export function toDate(t) {
  if (t === undefined || t === null || t === '') return null;
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtDate(t) {
  const d = toDate(t);
  if (!d) return '–';
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const STATUS_TEXT = {
  RUNNING: 'Running', SUCCEEDED: 'Succeeded', FAILED: 'Failed', TIMED_OUT: 'Timed out',
  ABORTED: 'Aborted', PENDING_REDRIVE: 'Pending redrive', CAUGHT: 'Caught error',
  NOT_STARTED: 'Not reached', ACTIVE: 'Active', DELETING: 'Deleting',
};
export const statusText = (s) => STATUS_TEXT[s] || s || '–';

export function badge(status) {
  return h('span', { class: `badge st-${String(status || 'none').toLowerCase()}`, 'data-status': status }, statusText(status));
}

// JSON text shown indented; anything else as it is.
export function prettyJson(text) {
  if (text === undefined || text === null) return '';
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function codeBlock(text, label) {
  return h('pre', { class: 'json', tabindex: '0', 'aria-label': label }, h('code', {}, prettyJson(text)));
}

export function errorBox(err, prefix) {
  const code = err?.code ? `${err.code}: ` : '';
  return h('div', { class: 'alert', role: 'alert' }, prefix ? `${prefix} — ` : '', code, err?.message || String(err));
}

export function lastSegment(arn) {
  return String(arn || '').split(':').pop();
}

export function parseHash(hash) {
  const raw = (hash || '').replace(/^#/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}
