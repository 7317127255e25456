// The graph drawn by the server (stepwise-graph's SVG), made interactive: states are
// focusable buttons (Tab, arrow keys, Enter/Space), statuses are set with `data-status`
// (coloured by the SVG's own rules plus style.css), and the view zooms.

import { h } from './util.js';

export function mountGraph(box, svgText, { onSelect, label } = {}) {
  const viewport = h('div', { class: 'graph-viewport', tabindex: '-1' });
  // The SVG comes from our own renderer, which escapes every name it writes.
  viewport.innerHTML = svgText;
  const svg = viewport.querySelector('svg');
  const baseW = Number(svg?.getAttribute('width')) || 400;
  const baseH = Number(svg?.getAttribute('height')) || 300;
  let scale = 1;
  const setScale = (s) => {
    scale = Math.max(0.1, Math.min(3, s));
    svg?.setAttribute('width', String(Math.round(baseW * scale)));
    svg?.setAttribute('height', String(Math.round(baseH * scale)));
    zoomLabel.textContent = `${Math.round(scale * 100)} %`;
  };
  const zoomLabel = h('span', { class: 'zoom-label', 'aria-live': 'polite' }, '100 %');
  const fit = () => setScale(Math.min(1, (viewport.clientWidth - 16) / baseW));
  const tools = h('div', { class: 'graph-tools', role: 'toolbar', 'aria-label': 'Graph zoom' },
    h('button', { type: 'button', onClick: () => setScale(scale / 1.25), 'aria-label': 'Zoom out' }, '−'),
    zoomLabel,
    h('button', { type: 'button', onClick: () => setScale(scale * 1.25), 'aria-label': 'Zoom in' }, '+'),
    h('button', { type: 'button', onClick: fit }, 'Fit'),
    h('button', { type: 'button', onClick: () => setScale(1) }, '100 %'));
  box.replaceChildren(tools, viewport);
  if (label && svg) svg.setAttribute('aria-label', label);

  const nodes = new Map();
  const order = [];
  for (const g of svg ? svg.querySelectorAll('g.state[data-state]') : []) {
    const name = g.getAttribute('data-state');
    nodes.set(name, g);
    order.push(g);
    g.setAttribute('tabindex', '0');
    if (onSelect) {
      g.setAttribute('role', 'button');
      g.addEventListener('click', () => onSelect(name));
    }
    g.addEventListener('keydown', (ev) => {
      const i = order.indexOf(g);
      if ((ev.key === 'Enter' || ev.key === ' ') && onSelect) {
        ev.preventDefault();
        onSelect(name);
      } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowRight') {
        ev.preventDefault();
        order[Math.min(order.length - 1, i + 1)]?.focus();
      } else if (ev.key === 'ArrowUp' || ev.key === 'ArrowLeft') {
        ev.preventDefault();
        order[Math.max(0, i - 1)]?.focus();
      }
    });
  }
  requestAnimationFrame(() => { if (viewport.clientWidth && viewport.clientWidth < baseW) fit(); });

  return {
    nodes,
    // statuses: Map name → status; states missing from it are "not reached".
    setStatuses(statuses, describe) {
      for (const [name, g] of nodes) {
        const s = statuses.get(name) || 'NOT_STARTED';
        if (g.getAttribute('data-status') !== s) g.setAttribute('data-status', s);
        const type = [...g.classList].find((c) => c.startsWith('state-'))?.slice(6) || '';
        g.setAttribute('aria-label', `${type} state ${name}: ${describe ? describe(s) : s}`);
      }
    },
    select(name) {
      for (const [n, g] of nodes) g.classList.toggle('selected', n === name);
    },
  };
}
