// What happened to each state, derived from the history events as they arrive.
//
// Pure (no DOM), so node can test it. Events carry the engine's `thread` key (from the
// console's stream): "" for the main flow, `<parent>/<enteredEventId>.<attempt>.<index>` for a
// Parallel branch or Map iteration started by the state entered at that event. Within one
// thread events are sequential, so any event that is not an Entered/Exited belongs to the
// state last entered in its thread.

// Events that start an attempt of a state (a retry starts another one).
const ATTEMPT_START = new Set([
  'TaskScheduled', 'ActivityScheduled', 'LambdaFunctionScheduled',
  'ParallelStateStarted', 'MapStateStarted',
]);

// Events that say an attempt failed: followed by a retry, a Catch (the state exits) or the
// end of the execution.
const ATTEMPT_FAILED = new Set([
  'TaskFailed', 'TaskTimedOut', 'TaskStartFailed', 'TaskSubmitFailed',
  'ActivityFailed', 'ActivityTimedOut', 'ActivityScheduleFailed',
  'LambdaFunctionFailed', 'LambdaFunctionTimedOut', 'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed', 'ParallelStateFailed', 'MapStateFailed', 'MapRunFailed',
  'EvaluationFailed',
]);

const RANK = { FAILED: 5, RUNNING: 4, CAUGHT: 3, SUCCEEDED: 2, ABORTED: 1 };

// The `…EventDetails` member of an event, whatever its name.
export function detailsOf(e) {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith('EventDetails') && v && typeof v === 'object') return v;
  }
  return e.details && typeof e.details === 'object' ? e.details : null;
}

export function stepNameOf(e, model) {
  const d = detailsOf(e);
  if (d && typeof d.name === 'string' && /State(Entered|Exited)$/.test(e.type)) return d.name;
  const run = model?.runOfEvent.get(e.id);
  return run ? run.name : '';
}

export class ExecutionModel {
  // `states`: name → state definition (for Fail states' static Error/Cause).
  constructor(states = new Map()) {
    this.states = states;
    this.events = [];
    this.runs = [];
    this.open = new Map(); // thread → run
    this.runOfEvent = new Map(); // event id → run
    this.execution = null; // DescribeExecution fields, from the stream
    this.start = null; // timestamp of ExecutionStarted
    this.end = null; // timestamp of the terminal event
  }

  add(events) {
    for (const e of events) this.addOne(e);
  }

  addOne(e) {
    this.events.push(e);
    const t = e.thread ?? '';
    const k = e.type || '';
    if (k === 'ExecutionStarted') {
      this.start = e.timestamp;
      return;
    }
    if (/^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(k)) {
      this.end = e.timestamp;
      this.finish(k, detailsOf(e) || {}, e.timestamp);
      return;
    }
    if (k.endsWith('StateEntered')) {
      const d = detailsOf(e) || {};
      const run = {
        name: d.name,
        type: k.slice(0, -'StateEntered'.length),
        thread: t,
        enteredId: e.id,
        enteredAt: e.timestamp,
        exitedAt: null,
        status: 'RUNNING',
        input: d.input ?? null,
        output: null,
        error: null,
        cause: null,
        attempts: 0,
        failures: [],
        failedPending: false,
        iterations: new Map(),
        events: [e],
      };
      if (run.type === 'Fail') {
        const def = this.states.get(run.name) || {};
        run.status = 'FAILED';
        run.exitedAt = e.timestamp;
        run.error = typeof def.Error === 'string' ? def.Error : null;
        run.cause = typeof def.Cause === 'string' ? def.Cause : null;
      }
      this.runs.push(run);
      this.runOfEvent.set(e.id, run);
      if (run.type !== 'Fail') this.open.set(t, run);
      return;
    }
    if (k.startsWith('MapIteration')) {
      this.iteration(e, t, k);
      return;
    }
    const run = this.open.get(t);
    if (!run) return;
    run.events.push(e);
    this.runOfEvent.set(e.id, run);
    const d = detailsOf(e) || {};
    if (k.endsWith('StateExited')) {
      run.output = d.output ?? null;
      run.exitedAt = e.timestamp;
      run.status = run.failedPending ? 'CAUGHT' : 'SUCCEEDED';
      this.open.delete(t);
      this.closeChildren(run, 'ABORTED', e.timestamp);
    } else if (k.endsWith('StateAborted')) {
      run.status = 'ABORTED';
      run.exitedAt = e.timestamp;
      this.open.delete(t);
      this.closeChildren(run, 'ABORTED', e.timestamp);
    } else if (ATTEMPT_START.has(k)) {
      run.attempts += 1;
      run.failedPending = false;
    } else if (ATTEMPT_FAILED.has(k)) {
      run.failedPending = true;
      const f = { error: d.error ?? null, cause: d.cause ?? null, at: e.timestamp, type: k };
      run.failures.push(f);
      if (f.error !== null) run.error = f.error;
      if (f.cause !== null) run.cause = f.cause;
    }
  }

  // MapIteration* events are emitted in the iteration's own thread,
  // `<map thread>/<map entered id>.<attempt>.<index>`: that names the Map run they belong to.
  iteration(e, t, k) {
    const seg = t.slice(t.lastIndexOf('/') + 1).split('.');
    const mapRun = this.runOfEvent.get(Number(seg[0]));
    const d = detailsOf(e) || {};
    const idx = typeof d.index === 'number' ? d.index : Number(seg[2]);
    if (!mapRun || Number.isNaN(idx)) return;
    this.runOfEvent.set(e.id, mapRun);
    const it = mapRun.iterations.get(idx) || { index: idx, status: 'RUNNING', startedAt: e.timestamp, endedAt: null };
    const what = k.slice('MapIteration'.length);
    if (what === 'Succeeded') it.status = 'SUCCEEDED';
    else if (what === 'Failed') it.status = 'FAILED';
    else if (what === 'Aborted') it.status = 'ABORTED';
    if (what !== 'Started') it.endedAt = e.timestamp;
    mapRun.iterations.set(idx, it);
  }

  // A state that exits (or fails) takes its branches and iterations with it: whatever they
  // still had open was cancelled.
  closeChildren(run, status, at) {
    const prefix = `${run.thread}/${run.enteredId}.`;
    for (const [t, r] of this.open) {
      if (t.startsWith(prefix)) {
        r.status = status;
        r.exitedAt = at;
        this.open.delete(t);
      }
    }
  }

  // The execution ended: states still open failed (their failure ended it) or were cancelled.
  finish(kind, d, at) {
    for (const [t, r] of this.open) {
      if (r.failedPending) {
        r.status = 'FAILED';
      } else if (kind === 'ExecutionFailed') {
        // Failed without a failure event of its own (a runtime error in the state).
        r.status = 'FAILED';
        if (t === '' && r.error === null) {
          r.error = d.error ?? null;
          r.cause = d.cause ?? null;
        }
      } else {
        r.status = 'ABORTED';
      }
      r.exitedAt = at;
    }
    this.open.clear();
    if (kind === 'ExecutionFailed') {
      // A Fail state of the main flow whose error is computed (ErrorPath): the execution's.
      for (const r of this.runs) {
        if (r.type === 'Fail' && r.thread === '' && r.error === null) {
          r.error = d.error ?? null;
          r.cause = d.cause ?? null;
        }
      }
    }
  }

  // Which iteration (attempt, index) of the Map `mapRun` a thread belongs to, or null.
  static iterationOf(thread, mapRun) {
    const prefix = `${mapRun.thread}/${mapRun.enteredId}.`;
    if (!thread.startsWith(prefix)) return null;
    const seg = thread.slice(prefix.length).split('/')[0];
    const [attempt, index] = seg.split('.').map(Number);
    return { attempt, index };
  }

  // Runs to show, given chosen Map iterations (Map run enteredId → index).
  visibleRuns(selection = new Map()) {
    if (selection.size === 0) return this.runs;
    const maps = this.runs.filter((r) => selection.has(r.enteredId));
    return this.runs.filter((r) => maps.every((m) => {
      const it = ExecutionModel.iterationOf(r.thread, m);
      return it === null || it.index === selection.get(m.enteredId);
    }));
  }

  // Status of every state name: within one thread the latest run counts (loops), across
  // threads (branches, iterations) the most telling one.
  statusByName(selection) {
    const latest = new Map(); // name \0 thread → run
    for (const r of this.visibleRuns(selection)) latest.set(`${r.name}\u0000${r.thread}`, r);
    const out = new Map();
    for (const r of latest.values()) {
      const cur = out.get(r.name);
      if (!cur || (RANK[r.status] || 0) > (RANK[cur] || 0)) out.set(r.name, r.status);
    }
    return out;
  }

  runsOf(name, selection) {
    return this.visibleRuns(selection).filter((r) => r.name === name);
  }
}
