// Evaluates each case of a cases file with reference JSONata 2.0.6, the way Step Functions
// binds it: no context value, `$states` and the workflow variables as bindings.
// Usage: node eval.js cases.json  -> prints a JSON array, one result per case.
'use strict';
const fs = require('fs');
const jsonata = require('jsonata');

function hasFunction(v) {
  if (typeof v === 'function') return true;
  if (v && typeof v === 'object') {
    if (v._jsonata_lambda || v._jsonata_function) return true;
    return Object.values(v).some(hasFunction);
  }
  return false;
}

function hasNonFinite(v) {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v && typeof v === 'object') return Object.values(v).some(hasNonFinite);
  return false;
}

async function run(c, context) {
  let expr;
  try {
    expr = jsonata(c.expr);
  } catch (e) {
    return { syntax: { code: e.code || null, message: e.message } };
  }
  const states = { input: c.input === undefined ? {} : c.input, context };
  const bindings = Object.assign({}, c.vars || {}, { states });
  try {
    const v = await expr.evaluate(undefined, bindings);
    if (v === undefined) return { undefined: true };
    if (hasFunction(v)) return { function: true };
    if (hasNonFinite(v)) return { nonfinite: true };
    return { value: JSON.parse(JSON.stringify(v)) };
  } catch (e) {
    return { error: { code: e.code || null, message: e.message } };
  }
}

(async () => {
  const file = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const out = [];
  for (const c of file.cases) out.push(await run(c, file.context));
  process.stdout.write(JSON.stringify(out));
})();
