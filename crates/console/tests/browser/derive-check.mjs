// Feeds recorded events (JSON file: {events, states}) to web/derive.js and prints what the
// execution page would show. Used by crates/console/tests/derive.rs.
import { readFileSync } from 'node:fs';
import { ExecutionModel } from '../../web/derive.js';

const { events, states } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const model = new ExecutionModel(new Map(Object.entries(states)));
model.add(events);
const obj = (m) => Object.fromEntries(m);
const map = model.runs.find((r) => r.type === 'Map');
const out = {
  statuses: obj(model.statusByName()),
  runs: model.runs.map((r) => ({ name: r.name, status: r.status, retries: Math.max(0, r.attempts - 1), error: r.error, thread: r.thread })),
  iterations: map ? [...map.iterations.values()].map((i) => ({ index: i.index, status: i.status })) : [],
  byIteration: map ? Object.fromEntries([...map.iterations.keys()].map((i) => [i, obj(model.statusByName(new Map([[map.enteredId, i]])))])) : {},
};
console.log(JSON.stringify(out));
