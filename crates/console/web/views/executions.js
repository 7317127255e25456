// Executions of every state machine (ListExecutions needs a machine, so the page asks each),
// filterable by machine, status and start time. Filters live in the URL, so a view can be
// shared or bookmarked.

import { call, listAll } from '../api.js';
import { h, clear, badge, fmtDate, fmtDuration, executionHref, machineHref, errorBox, toDate, lastSegment } from '../util.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
const WINDOWS = [['', 'Any time'], ['3600', 'Last hour'], ['86400', 'Last 24 hours'], ['604800', 'Last 7 days']];
const REFRESH_MS = 3000;

export async function render(root, route) {
  const params = route.params;
  const machineSel = h('select', { id: 'filter-machine', name: 'machine' }, h('option', { value: '' }, 'All state machines'));
  const statusSel = h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s }, s)));
  const sinceSel = h('select', { id: 'filter-since', name: 'since' }, WINDOWS.map(([v, t]) => h('option', { value: v }, t)));
  const tableBox = h('div', { class: 'table-box' }, h('p', { class: 'muted' }, 'Loading…'));
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });

  let machines = [];
  try {
    machines = await listAll('ListStateMachines', { maxResults: 1000 }, 'stateMachines');
  } catch (e) {
    root.append(h('h1', {}, 'Executions'), errorBox(e, 'Cannot list state machines'));
    return undefined;
  }
  for (const m of machines) machineSel.append(h('option', { value: m.stateMachineArn }, m.name));
  machineSel.value = params.get('machine') || '';
  statusSel.value = params.get('status') || '';
  sinceSel.value = params.get('since') || '';

  const onChange = () => {
    const q = new URLSearchParams();
    if (machineSel.value) q.set('machine', machineSel.value);
    if (statusSel.value) q.set('status', statusSel.value);
    if (sinceSel.value) q.set('since', sinceSel.value);
    const next = `#/executions${q.toString() ? `?${q}` : ''}`;
    // Keep the page (and focus) while filtering: update the URL without re-routing.
    history.replaceState(null, '', next);
    load();
  };
  for (const s of [machineSel, statusSel, sinceSel]) s.addEventListener('change', onChange);

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Executions')),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter executions', onSubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'filter-machine' }, 'State machine'), machineSel),
      h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), statusSel),
      h('div', { class: 'field' }, h('label', { for: 'filter-since' }, 'Started'), sinceSel)),
    count,
    tableBox);

  let stopped = false;
  let seq = 0;
  async function load() {
    const mine = ++seq;
    const targets = machineSel.value ? machines.filter((m) => m.stateMachineArn === machineSel.value) : machines;
    const body = statusSel.value ? { statusFilter: statusSel.value } : {};
    try {
      const lists = await Promise.all(targets.slice(0, 100).map((m) => listAll('ListExecutions', { ...body, stateMachineArn: m.stateMachineArn, maxResults: 100 }, 'executions', 200)));
      if (stopped || mine !== seq) return;
      let all = lists.flat();
      if (sinceSel.value) {
        const from = Date.now() - Number(sinceSel.value) * 1000;
        all = all.filter((e) => (toDate(e.startDate)?.getTime() || 0) >= from);
      }
      all.sort((a, b) => (b.startDate || 0) - (a.startDate || 0));
      count.textContent = `${all.length} execution${all.length === 1 ? '' : 's'}`;
      clear(tableBox, table(all));
    } catch (e) {
      if (!stopped && mine === seq) clear(tableBox, errorBox(e, 'Cannot list executions'));
    }
  }
  await load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}

function table(execs) {
  if (execs.length === 0) return h('p', { class: 'empty' }, 'No executions match.');
  return h('table', { class: 'grid', id: 'executions-table' },
    h('caption', { class: 'visually-hidden' }, 'Executions'),
    h('thead', {}, h('tr', {}, ['Name', 'Status', 'State machine', 'Started', 'Ended', 'Duration'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, execs.map((e) => {
      const start = toDate(e.startDate);
      const stop = toDate(e.stopDate);
      const ms = start ? (stop ? stop - start : Date.now() - start) : null;
      return h('tr', { 'data-status': e.status },
        h('td', {}, h('a', { href: executionHref(e.executionArn) }, e.name)),
        h('td', {}, badge(e.status)),
        h('td', {}, h('a', { href: machineHref(e.stateMachineArn) }, lastSegment(e.stateMachineArn))),
        h('td', {}, fmtDate(e.startDate)),
        h('td', {}, fmtDate(e.stopDate)),
        h('td', {}, fmtDuration(ms)));
    })));
}
