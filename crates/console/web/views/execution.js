// One execution, live: the graph coloured by what happened to each state, the selected
// state's input/output/error/retries/timing, Map iterations, a timeline of state durations,
// the event table, and Stop/Redrive.

import { call, consoleGet, watchExecution } from '../api.js';
import { ExecutionModel, detailsOf, stepNameOf } from '../derive.js';
import { mountGraph } from '../graph.js';
import {
  h, clear, badge, fmtDate, fmtDuration, machineHref, errorBox, lastSegment, codeBlock,
  statusText, toDate,
} from '../util.js';

const EVENT_ROWS = 2000; // rows drawn before "Show all"
const TIMELINE_ROWS = 300;
const LEGEND = ['SUCCEEDED', 'FAILED', 'CAUGHT', 'RUNNING', 'ABORTED', 'NOT_STARTED'];

// name → state definition, through Parallel branches and Map item processors.
function statesOf(def, out = new Map()) {
  const states = def && typeof def === 'object' ? def.States : null;
  if (!states || typeof states !== 'object') return out;
  for (const [name, s] of Object.entries(states)) {
    out.set(name, s);
    for (const b of Array.isArray(s?.Branches) ? s.Branches : []) statesOf(b, out);
    if (s?.ItemProcessor) statesOf(s.ItemProcessor, out);
    if (s?.Iterator) statesOf(s.Iterator, out);
  }
  return out;
}

export async function render(root, route) {
  const arn = route.parts[1];
  const statusBox = h('span', { id: 'exec-status', 'aria-live': 'polite' }, badge('RUNNING'));
  const actionMsg = h('div', { id: 'action-message', 'aria-live': 'assertive' });
  const stopBtn = h('button', { type: 'button', id: 'stop', class: 'danger', disabled: true }, 'Stop execution');
  const redriveBtn = h('button', { type: 'button', id: 'redrive', disabled: true }, 'Redrive');
  const facts = h('dl', { class: 'facts' });
  const graphBox = h('div', { class: 'graph-box', id: 'execution-graph' }, h('p', { class: 'muted' }, 'Drawing…'));
  const panel = h('div', { id: 'state-panel', class: 'state-panel' }, h('p', { class: 'muted' }, 'Select a state in the graph (click, or Tab to it and press Enter) to see its input, output, error and timing.'));
  const ioBox = h('div', { class: 'io' });
  const timelineBox = h('div', { id: 'timeline' });
  const eventsBody = h('tbody', {});
  const moreBox = h('div', {});
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/executions' }, 'Executions'), ' / ', lastSegment(arn));

  root.append(
    crumbs,
    h('div', { class: 'page-head' },
      h('h1', {}, lastSegment(arn), ' ', statusBox),
      h('div', { class: 'actions' }, stopBtn, redriveBtn)),
    actionMsg,
    facts,
    h('div', { class: 'split exec-split' },
      h('section', { class: 'card', 'aria-labelledby': 'eg-h' },
        h('div', { class: 'section-head' }, h('h2', { id: 'eg-h' }, 'Graph'), legend()),
        graphBox),
      h('section', { class: 'card', 'aria-labelledby': 'sp-h' }, h('h2', { id: 'sp-h' }, 'State details'), panel)),
    h('section', { class: 'card', 'aria-labelledby': 'io-h' }, h('h2', { id: 'io-h' }, 'Execution input and output'), ioBox),
    h('section', { class: 'card', 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Timeline'), timelineBox),
    h('section', { class: 'card', 'aria-labelledby': 'ev-h' }, h('h2', { id: 'ev-h' }, 'Events'),
      h('table', { class: 'grid events', id: 'events-table' },
        h('thead', {}, h('tr', {}, ['', 'ID', 'Type', 'Step', 'Elapsed', 'Timestamp'].map((c, i) => h('th', { scope: 'col', class: i === 0 ? 'narrow' : null }, c ? c : h('span', { class: 'visually-hidden' }, 'Details'))))),
        eventsBody),
      moreBox),
  );

  let states = new Map();
  let graph = null;
  let model = new ExecutionModel(states);
  const selection = new Map(); // Map state's run enteredId → iteration index
  let selected = null;
  let runChoice = null; // enteredId of the run shown for the selected state
  let execution = null;
  let drawnEvents = 0;
  let showAll = false;
  let pending = false;
  let stopStream = null;

  stopBtn.addEventListener('click', async () => {
    clear(actionMsg);
    stopBtn.disabled = true;
    try {
      await call('StopExecution', { executionArn: arn });
      clear(actionMsg, h('div', { class: 'note', role: 'status' }, 'Stop requested.'));
    } catch (e) {
      clear(actionMsg, errorBox(e, 'StopExecution failed'));
      stopBtn.disabled = execution?.status !== 'RUNNING';
    }
  });
  redriveBtn.addEventListener('click', async () => {
    clear(actionMsg);
    try {
      await call('RedriveExecution', { executionArn: arn });
      clear(actionMsg, h('div', { class: 'note', role: 'status' }, 'Redrive started.'));
      restart();
    } catch (e) {
      clear(actionMsg, errorBox(e, 'RedriveExecution failed'));
    }
  });

  const select = (name) => {
    selected = name;
    runChoice = null;
    graph?.select(name);
    drawPanel();
  };

  // Definition and graph (the execution's own definition, not the machine's current one).
  try {
    const d = await consoleGet('definition', { arn });
    try { states = statesOf(JSON.parse(d.source)); } catch { states = new Map(); }
    model = new ExecutionModel(states);
    if (d.svg) graph = mountGraph(graphBox, d.svg, { onSelect: select, label: 'Execution graph' });
    else clear(graphBox, h('div', { class: 'alert', role: 'alert' }, `No graph: ${d.graphError}`));
  } catch (e) {
    clear(graphBox, errorBox(e, 'Cannot load this execution'));
    return undefined;
  }

  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }

  function draw() {
    if (graph) graph.setStatuses(model.statusByName(selection), statusText);
    drawHeader();
    drawEvents();
    drawTimeline();
    drawPanel();
  }

  function drawHeader() {
    if (!execution) return;
    const s = execution.status;
    clear(statusBox, badge(s));
    stopBtn.disabled = s !== 'RUNNING';
    redriveBtn.disabled = !['FAILED', 'TIMED_OUT', 'ABORTED'].includes(s);
    const start = toDate(execution.startDate);
    const stop = toDate(execution.stopDate);
    clear(crumbs, h('a', { href: '#/executions' }, 'Executions'), ' / ',
      h('a', { href: machineHref(execution.stateMachineArn) }, lastSegment(execution.stateMachineArn)), ' / ', execution.name);
    clear(facts,
      fact('ARN', h('code', {}, execution.executionArn)),
      fact('State machine', h('a', { href: machineHref(execution.stateMachineArn) }, lastSegment(execution.stateMachineArn))),
      fact('Started', fmtDate(execution.startDate)),
      fact('Ended', fmtDate(execution.stopDate)),
      fact('Duration', start ? fmtDuration((stop || new Date()) - start) : '–'),
      execution.redriveCount ? fact('Redrives', String(execution.redriveCount)) : null);
    clear(ioBox,
      h('div', { class: 'split' },
        h('div', {}, h('h3', {}, 'Input'), codeBlock(execution.input, 'Execution input')),
        h('div', {}, h('h3', {}, 'Output'), execution.output != null ? codeBlock(execution.output, 'Execution output') : h('p', { class: 'muted' }, s === 'RUNNING' ? 'Not finished yet.' : 'No output.'))),
      execution.error || execution.cause
        ? h('div', { class: 'alert', role: 'note' }, h('strong', {}, 'Error: '), h('code', {}, execution.error || '–'), execution.cause ? [h('br'), 'Cause: ', execution.cause] : null)
        : null);
  }

  function drawEvents() {
    const limit = showAll ? Infinity : EVENT_ROWS;
    const start = model.start;
    while (drawnEvents < model.events.length && drawnEvents < limit) {
      const e = model.events[drawnEvents++];
      const det = h('tr', { class: 'event-details', hidden: true },
        h('td', { colspan: '6' }, codeBlock(JSON.stringify(e, (k, v) => (k === 'thread' ? undefined : v)), `Details of event ${e.id}`)));
      const toggle = h('button', {
        type: 'button', class: 'expander', 'aria-expanded': 'false', 'aria-label': `Details of event ${e.id}`,
        onClick: () => {
          const open = det.hidden;
          det.hidden = !open;
          toggle.setAttribute('aria-expanded', String(open));
          toggle.textContent = open ? '▾' : '▸';
        },
      }, '▸');
      const failed = /Failed$|TimedOut$|Aborted$/.test(e.type);
      eventsBody.append(h('tr', { 'data-event-id': e.id, class: failed ? 'ev-failed' : null },
        h('td', { class: 'narrow' }, toggle),
        h('td', {}, String(e.id)),
        h('td', {}, e.type),
        h('td', {}, stepNameOf(e, model)),
        h('td', {}, start != null ? fmtDuration((e.timestamp - start) * 1000) : '–'),
        h('td', {}, fmtDate(e.timestamp))), det);
    }
    if (drawnEvents < model.events.length) {
      clear(moreBox, h('button', { type: 'button', onClick: () => { showAll = true; drawEvents(); } }, `Show all ${model.events.length} events`));
    } else clear(moreBox);
  }

  function drawTimeline() {
    const runs = model.visibleRuns(selection);
    if (runs.length === 0 || model.start == null) {
      clear(timelineBox, h('p', { class: 'muted' }, 'No state has started yet.'));
      return;
    }
    const t0 = model.start;
    const t1 = model.end ?? Math.max(Date.now() / 1000, ...runs.map((r) => r.exitedAt ?? r.enteredAt));
    const span = Math.max(t1 - t0, 0.001);
    const rows = runs.slice(0, TIMELINE_ROWS).map((r) => {
      const from = r.enteredAt - t0;
      const to = (r.exitedAt ?? t1) - t0;
      const ms = (to - from) * 1000;
      return h('li', { class: 'tl-row' },
        h('button', { type: 'button', class: 'tl-name', onClick: () => select(r.name), title: r.name }, r.name),
        h('span', { class: 'tl-track', 'aria-hidden': 'true' },
          h('span', { class: `tl-bar st-${r.status.toLowerCase()}`, style: `left:${(from / span) * 100}%;width:max(2px, ${((to - from) / span) * 100}%)` })),
        h('span', { class: 'tl-dur' }, `${fmtDuration(ms)} · ${statusText(r.status)}`));
    });
    clear(timelineBox, h('ol', { class: 'timeline', 'aria-label': 'State durations' }, rows),
      runs.length > TIMELINE_ROWS ? h('p', { class: 'muted' }, `First ${TIMELINE_ROWS} of ${runs.length} state runs.`) : null);
  }

  function drawPanel() {
    if (!selected) return;
    const def = states.get(selected) || {};
    const runs = model.runsOf(selected, selection);
    const kids = [h('h3', { tabindex: '-1' }, selected, ' ', h('span', { class: 'muted' }, def.Type || ''))];
    const mapRuns = model.runs.filter((r) => r.name === selected && r.iterations.size > 0);
    if (def.Type === 'Map' && mapRuns.length) {
      const mapRun = mapRuns[mapRuns.length - 1];
      const sel = h('select', { id: 'iteration-select' },
        h('option', { value: '' }, `All iterations (${mapRun.iterations.size})`),
        [...mapRun.iterations.values()].sort((a, b) => a.index - b.index).map((it) => h('option', { value: String(it.index) }, `Iteration #${it.index} — ${statusText(it.status)}`)));
      sel.value = selection.has(mapRun.enteredId) ? String(selection.get(mapRun.enteredId)) : '';
      sel.addEventListener('change', () => {
        if (sel.value === '') selection.delete(mapRun.enteredId);
        else selection.set(mapRun.enteredId, Number(sel.value));
        draw();
        document.getElementById('iteration-select')?.focus();
      });
      kids.push(h('div', { class: 'field' }, h('label', { for: 'iteration-select' }, 'Show the item processor for'), sel));
    }
    if (runs.length === 0) {
      kids.push(badge('NOT_STARTED'), h('p', { class: 'muted' }, 'This state has not been reached.'));
      clear(panel, kids);
      return;
    }
    let run = runs.find((r) => r.enteredId === runChoice) || runs[runs.length - 1];
    if (runs.length > 1) {
      const rs = h('select', { id: 'run-select' }, runs.map((r, i) => h('option', { value: String(r.enteredId) }, `Run ${i + 1} of ${runs.length} — ${statusText(r.status)}`)));
      rs.value = String(run.enteredId);
      rs.addEventListener('change', () => { runChoice = Number(rs.value); drawPanel(); document.getElementById('run-select')?.focus(); });
      kids.push(h('div', { class: 'field' }, h('label', { for: 'run-select' }, 'Run'), rs));
      run = runs.find((r) => r.enteredId === runChoice) || run;
    }
    const dur = run.exitedAt != null ? (run.exitedAt - run.enteredAt) * 1000 : null;
    kids.push(
      h('dl', { class: 'facts compact' },
        fact('Status', badge(run.status)),
        fact('Entered', fmtDate(run.enteredAt)),
        fact('Exited', fmtDate(run.exitedAt)),
        fact('Duration', dur != null ? fmtDuration(dur) : 'in progress'),
        fact('Retries', String(Math.max(0, run.attempts - 1)))),
      run.error || run.cause ? h('div', { class: 'alert', role: 'note', id: 'state-error' }, h('strong', {}, 'Error: '), h('code', {}, run.error || '–'), run.cause ? [h('br'), 'Cause: ', run.cause] : null) : null,
      run.failures.length > 1 ? h('details', {}, h('summary', {}, `${run.failures.length} failed attempts`),
        h('ol', {}, run.failures.map((f) => h('li', {}, `${fmtDate(f.at)} ${f.type}: ${f.error ?? ''} ${f.cause ?? ''}`)))) : null,
      h('h4', {}, 'Input'), run.input != null ? codeBlock(run.input, `Input of ${run.name}`) : h('p', { class: 'muted' }, '–'),
      h('h4', {}, 'Output'), run.output != null ? codeBlock(run.output, `Output of ${run.name}`) : h('p', { class: 'muted' }, run.status === 'RUNNING' ? 'Not finished yet.' : 'No output.'),
      h('details', {}, h('summary', {}, `Events (${run.events.length})`),
        h('ol', { class: 'run-events' }, run.events.map((e) => h('li', {}, `#${e.id} ${e.type}`, detailsOf(e)?.error ? ` (${detailsOf(e).error})` : '')))),
    );
    clear(panel, kids);
  }

  function restart() {
    stopStream?.();
    model = new ExecutionModel(states);
    drawnEvents = 0;
    eventsBody.replaceChildren();
    stopStream = watchExecution(arn, (msg) => {
      if (msg.execution) execution = msg.execution;
      model.add(msg.events || []);
      schedule();
    }, (e) => clear(actionMsg, errorBox(e, 'Live updates')));
  }
  restart();
  // The running clock in the header and timeline moves even when no event arrives.
  const ticker = setInterval(() => { if (execution?.status === 'RUNNING' && !document.hidden) schedule(); }, 1000);
  return () => { stopStream?.(); clearInterval(ticker); };
}

function fact(k, v) {
  return h('div', {}, h('dt', {}, k), h('dd', {}, v));
}

function legend() {
  return h('ul', { class: 'legend', 'aria-label': 'Colour legend' }, LEGEND.map((s) => h('li', {}, h('span', { class: `swatch st-${s.toLowerCase()}`, 'aria-hidden': 'true' }), statusText(s))));
}
