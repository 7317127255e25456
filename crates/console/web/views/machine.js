// One state machine: its graph, the definition with validation diagnostics, versions and
// aliases, recent executions and the "Start execution" form.

import { call, consoleGet } from '../api.js';
import { mountGraph } from '../graph.js';
import {
  h, clear, badge, fmtDate, executionHref, machineHref, errorBox, lastSegment,
} from '../util.js';

export async function render(root, route) {
  const arn = route.parts[1];
  let sm;
  try {
    sm = await call('DescribeStateMachine', { stateMachineArn: arn });
  } catch (e) {
    root.append(h('h1', {}, lastSegment(arn)), errorBox(e, 'Cannot load the state machine'));
    return undefined;
  }
  const graphBox = h('div', { class: 'graph-box', id: 'machine-graph' }, h('p', { class: 'muted' }, 'Drawing…'));
  const sourceBox = h('div', { class: 'source-box' });
  const execBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const versionsBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const aliasesBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));

  root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/machines' }, 'State machines'), ' / ', sm.name),
    h('div', { class: 'page-head' },
      h('h1', {}, sm.name),
      h('div', { class: 'actions' },
        h('a', { class: 'button primary', href: '#start', onClick: (ev) => { ev.preventDefault(); document.getElementById('start-input')?.focus(); } }, 'Start execution'),
        h('a', { class: 'button', href: `/console/api/graph.svg?${new URLSearchParams({ arn })}`, download: `${sm.name}.svg` }, 'Download SVG'))),
    h('dl', { class: 'facts' },
      fact('ARN', h('code', {}, sm.stateMachineArn)),
      fact('Type', sm.type),
      fact('Status', sm.status ? badge(sm.status) : '–'),
      fact('Created', fmtDate(sm.creationDate)),
      fact('Role', sm.roleArn || '–'),
      sm.description ? fact('Description', sm.description) : null),
    h('div', { class: 'split' },
      h('section', { class: 'card', 'aria-labelledby': 'graph-h' }, h('h2', { id: 'graph-h' }, 'Graph'), graphBox),
      h('section', { class: 'card', 'aria-labelledby': 'def-h' }, h('h2', { id: 'def-h' }, 'Definition'), sourceBox)),
    startForm(sm),
    h('section', { class: 'card', 'aria-labelledby': 'ex-h' },
      h('div', { class: 'section-head' }, h('h2', { id: 'ex-h' }, 'Recent executions'),
        h('a', { href: `#/executions?${new URLSearchParams({ machine: arn })}` }, 'All executions of this machine')),
      execBox),
    h('div', { class: 'split' },
      h('section', { class: 'card', 'aria-labelledby': 'ver-h' }, h('h2', { id: 'ver-h' }, 'Versions'), versionsBox),
      h('section', { class: 'card', 'aria-labelledby': 'al-h' }, h('h2', { id: 'al-h' }, 'Aliases'), aliasesBox)),
  );

  const drawing = consoleGet('definition', { arn }).then((d) => {
    let lines = [];
    const graph = d.svg
      ? mountGraph(graphBox, d.svg, {
        label: `Graph of ${sm.name}`,
        onSelect: (name) => { graph.select(name); highlightState(lines, name); },
      })
      : null;
    if (!d.svg) clear(graphBox, h('div', { class: 'alert', role: 'alert' }, `No graph: ${d.graphError}`));
    lines = source(sourceBox, d);
  }, (e) => { clear(graphBox, errorBox(e)); clear(sourceBox, source(sourceBox, { source: sm.definition, diagnostics: [] })); });

  const loadExecutions = () => call('ListExecutions', { stateMachineArn: arn, maxResults: 20 }).then(
    (r) => clear(execBox, executionsTable(r.executions || [])),
    (e) => clear(execBox, errorBox(e, 'ListExecutions')));
  const loads = [
    drawing,
    loadExecutions(),
    call('ListStateMachineVersions', { stateMachineArn: arn }).then(
      (r) => clear(versionsBox, versionsTable(r.stateMachineVersions || [])),
      (e) => clear(versionsBox, errorBox(e, 'ListStateMachineVersions'))),
    call('ListStateMachineAliases', { stateMachineArn: arn }).then(
      (r) => clear(aliasesBox, aliasesTable(r.stateMachineAliases || [])),
      (e) => clear(aliasesBox, errorBox(e, 'ListStateMachineAliases'))),
  ];
  await Promise.all(loads);
  const timer = setInterval(() => { if (!document.hidden) loadExecutions(); }, 5000);
  return () => clearInterval(timer);
}

function fact(k, v) {
  return h('div', {}, h('dt', {}, k), h('dd', {}, v));
}

// The source with line numbers; diagnostics listed above it, each linking to its line.
// Returns the line elements.
function source(box, d) {
  const text = d.source || '';
  const byLine = new Map();
  for (const diag of d.diagnostics || []) {
    if (diag.line) byLine.set(diag.line, [...(byLine.get(diag.line) || []), diag]);
  }
  const lines = text.split('\n').map((t, i) => {
    const n = i + 1;
    const diags = byLine.get(n);
    return h('li', {
      id: `L${n}`,
      class: diags ? `has-diag ${diags.some((x) => x.severity === 'ERROR') ? 'diag-error' : 'diag-warning'}` : null,
      title: diags ? diags.map((x) => `${x.code}: ${x.message}`).join('\n') : null,
    }, h('span', { class: 'ln', 'aria-hidden': 'true' }, String(n)), h('span', { class: 'lc' }, t || ' '));
  });
  const diags = d.diagnostics || [];
  const list = diags.length === 0
    ? h('p', { class: 'ok-note', id: 'diagnostics' }, '✓ Valid definition: no diagnostics.')
    : h('ul', { class: 'diagnostics', id: 'diagnostics', 'aria-label': 'Validation diagnostics' }, diags.map((x) => h('li', { class: x.severity === 'ERROR' ? 'diag-error' : 'diag-warning' },
      h('strong', {}, x.severity === 'ERROR' ? 'Error' : 'Warning'), ' ', h('code', {}, x.code), ': ', x.message,
      x.line ? [' ', h('a', {
        href: `#L${x.line}`,
        onClick: (ev) => { ev.preventDefault(); jump(lines, x.line); },
      }, `line ${x.line}, column ${x.column}`)] : (x.location ? ` at ${x.location}` : ''))));
  clear(box, list, h('ol', { class: 'source mono', tabindex: '0', 'aria-label': 'Definition source' }, lines));
  return lines;
}

function jump(lines, n) {
  const li = lines[n - 1];
  if (!li) return;
  for (const l of lines) l.classList.remove('flash');
  li.classList.add('flash');
  li.scrollIntoView({ block: 'center', behavior: 'smooth' });
}

function highlightState(lines, name) {
  const key = `${JSON.stringify(name)}:`;
  const i = lines.findIndex((l) => l.textContent.replace(/^\d+/, '').includes(key));
  if (i >= 0) jump(lines, i + 1);
}

function startForm(sm) {
  const msg = h('div', { 'aria-live': 'polite' });
  const err = h('p', { id: 'start-input-error', class: 'field-error', 'aria-live': 'polite' });
  const name = h('input', { id: 'start-name', name: 'name', autocomplete: 'off', placeholder: 'generated when empty', pattern: '[A-Za-z0-9_\\-]{1,80}' });
  const input = h('textarea', { id: 'start-input', name: 'input', rows: '8', spellcheck: 'false', class: 'mono', 'aria-describedby': 'start-input-error' });
  input.value = '{\n  "Comment": "Insert your JSON here"\n}';
  const form = h('form', {
    class: 'form',
    id: 'start',
    async onSubmit(ev) {
      ev.preventDefault();
      clear(msg);
      err.textContent = '';
      input.removeAttribute('aria-invalid');
      try {
        JSON.parse(input.value);
      } catch (e) {
        input.setAttribute('aria-invalid', 'true');
        err.textContent = `The input is not valid JSON: ${e.message}`;
        input.focus();
        return;
      }
      const body = { stateMachineArn: sm.stateMachineArn, input: input.value };
      if (name.value.trim()) body.name = name.value.trim();
      try {
        const r = await call('StartExecution', body);
        location.hash = executionHref(r.executionArn);
      } catch (e) {
        clear(msg, errorBox(e, 'StartExecution failed'));
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'start-name' }, 'Name (optional)'), name),
  h('div', { class: 'field' }, h('label', { for: 'start-input' }, 'Input (JSON)'), input, err),
  h('button', { type: 'submit', class: 'primary', id: 'start-submit' }, 'Start execution'),
  msg);
  return h('section', { class: 'card', 'aria-labelledby': 'start-h' }, h('h2', { id: 'start-h' }, 'Start execution'), form);
}

function executionsTable(execs) {
  if (execs.length === 0) return h('p', { class: 'empty' }, 'No executions yet.');
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, ['Name', 'Status', 'Started', 'Ended'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, execs.map((e) => h('tr', {},
      h('td', {}, h('a', { href: executionHref(e.executionArn) }, e.name)),
      h('td', {}, badge(e.status)),
      h('td', {}, fmtDate(e.startDate)),
      h('td', {}, fmtDate(e.stopDate))))));
}

function versionsTable(vs) {
  if (vs.length === 0) return h('p', { class: 'empty' }, 'No published versions.');
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col' }, 'Created'))),
    h('tbody', {}, vs.map((v) => h('tr', {},
      h('td', {}, h('a', { href: machineHref(v.stateMachineVersionArn) }, lastSegment(v.stateMachineVersionArn))),
      h('td', {}, fmtDate(v.creationDate))))));
}

function aliasesTable(as) {
  if (as.length === 0) return h('p', { class: 'empty' }, 'No aliases.');
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Alias'), h('th', { scope: 'col' }, 'Created'))),
    h('tbody', {}, as.map((a) => h('tr', {},
      h('td', {}, h('code', {}, lastSegment(a.stateMachineAliasArn))),
      h('td', {}, fmtDate(a.creationDate))))));
}
