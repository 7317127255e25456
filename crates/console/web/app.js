// The console's entry point: a hash router over four pages. Each page is a module exporting
// `render(main, route)` that may return a cleanup function (stops timers and live streams).

import { parseHash } from './util.js';
import * as machines from './views/machines.js';
import * as machine from './views/machine.js';
import * as executions from './views/executions.js';
import * as execution from './views/execution.js';

const main = document.getElementById('main');
let cleanup = null;
let generation = 0;

function pick(parts) {
  if (parts[0] === 'executions' && parts[1]) return [execution, 'executions'];
  if (parts[0] === 'executions') return [executions, 'executions'];
  if (parts[0] === 'machines' && parts[1]) return [machine, 'machines'];
  return [machines, 'machines'];
}

async function route() {
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const r = parseHash(location.hash);
  const [view, section] = pick(r.parts);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const gen = ++generation;
  // Each page draws into its own element: a page still loading when the user moves on
  // writes into a detached element instead of over the next page.
  const root = document.createElement('div');
  root.className = 'page';
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(root);
  let done;
  try {
    done = await view.render(root, r);
  } catch (e) {
    root.replaceChildren(Object.assign(document.createElement('div'), {
      className: 'alert', role: 'alert', textContent: `This page failed: ${e.message}`,
    }));
  }
  if (gen !== generation) {
    if (typeof done === 'function') done();
    return;
  }
  cleanup = done;
  main.setAttribute('aria-busy', 'false');
}

window.addEventListener('hashchange', () => {
  route().then(() => main.focus({ preventScroll: true }));
});
route();
