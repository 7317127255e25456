// State machines: the list (name, type, created, latest executions) and a create form.

import { call, listAll } from '../api.js';
import { h, clear, badge, fmtDate, machineHref, executionHref, errorBox } from '../util.js';

const REFRESH_MS = 5000;
const LATEST = 5;

const EXAMPLE = JSON.stringify({
  Comment: 'A Hello World example',
  StartAt: 'Hello',
  States: { Hello: { Type: 'Pass', Result: 'Hello World!', End: true } },
}, null, 2);

export async function render(root) {
  const tableBox = h('div', { class: 'table-box' }, h('p', { class: 'muted' }, 'Loading…'));
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'State machines')),
    createForm(),
    h('section', { 'aria-labelledby': 'sm-list-h' },
      h('h2', { id: 'sm-list-h', class: 'visually-hidden' }, 'All state machines'),
      tableBox),
  );
  let stopped = false;
  const load = async () => {
    try {
      const machines = await listAll('ListStateMachines', { maxResults: 1000 }, 'stateMachines');
      const latest = await Promise.all(machines.slice(0, 100).map((m) => call('ListExecutions', {
        stateMachineArn: m.stateMachineArn, maxResults: LATEST,
      }).then((r) => r.executions || [], () => null)));
      if (!stopped) clear(tableBox, table(machines, latest));
    } catch (e) {
      if (!stopped) clear(tableBox, errorBox(e, 'Cannot list state machines'));
    }
  };
  await load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}

function table(machines, latest) {
  if (machines.length === 0) {
    return h('p', { class: 'empty' }, 'No state machines yet. Create one above, or with the API (CreateStateMachine).');
  }
  return h('table', { class: 'grid', id: 'machines-table' },
    h('caption', { class: 'visually-hidden' }, 'State machines'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Type'),
      h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Latest executions'))),
    h('tbody', {}, machines.map((m, i) => h('tr', { 'data-arn': m.stateMachineArn },
      h('td', {}, h('a', { href: machineHref(m.stateMachineArn) }, m.name)),
      h('td', {}, m.type),
      h('td', {}, fmtDate(m.creationDate)),
      h('td', { class: 'latest' }, latestCell(latest[i]))))));
}

function latestCell(execs) {
  if (execs === null || execs === undefined) return h('span', { class: 'muted' }, '–');
  if (execs.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'chips' }, execs.map((e) => h('li', {},
    h('a', { href: executionHref(e.executionArn), title: `${e.name} — ${e.status}` }, badge(e.status), ' ', e.name))));
}

function createForm() {
  const msg = h('div', { 'aria-live': 'polite' });
  const name = h('input', { id: 'create-name', name: 'name', required: true, pattern: '[A-Za-z0-9_\\-]{1,80}', autocomplete: 'off' });
  const type = h('select', { id: 'create-type', name: 'type' }, h('option', { value: 'STANDARD' }, 'Standard'), h('option', { value: 'EXPRESS' }, 'Express'));
  const role = h('input', { id: 'create-role', name: 'role', value: 'arn:aws:iam::123456789012:role/stepwise', autocomplete: 'off' });
  const def = h('textarea', { id: 'create-def', name: 'definition', rows: '12', spellcheck: 'false', class: 'mono' });
  def.value = EXAMPLE;
  const form = h('form', {
    class: 'form',
    async onSubmit(ev) {
      ev.preventDefault();
      clear(msg);
      try {
        const r = await call('CreateStateMachine', {
          name: name.value.trim(), type: type.value, roleArn: role.value.trim(), definition: def.value,
        });
        location.hash = machineHref(r.stateMachineArn);
      } catch (e) {
        clear(msg, errorBox(e, 'CreateStateMachine failed'));
      }
    },
  },
  h('div', { class: 'row' },
    h('div', { class: 'field' }, h('label', { for: 'create-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'create-type' }, 'Type'), type),
    h('div', { class: 'field grow' }, h('label', { for: 'create-role' }, 'Role ARN'), role)),
  h('div', { class: 'field' }, h('label', { for: 'create-def' }, 'Definition (Amazon States Language)'), def),
  h('button', { type: 'submit', class: 'primary' }, 'Create state machine'),
  msg);
  return h('details', { class: 'card create' }, h('summary', {}, 'Create state machine'), form);
}
