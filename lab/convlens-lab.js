/**
 * The live lab of "Seeing What Convnets Learn": the book's three trained convnets in the reader's
 * browser, with TensorFlow.js in a Web Worker (WASM back-end; WebGL where the reader has a real
 * GPU), so that the page only draws.
 *
 * This module (the one a page loads) finds every `<div class="convlens-lab" data-panel="...">`
 * (written by the book's `convlens-lab` directive, book/_ext/convlens_lab.py) and builds the
 * panel: `photo` (panel-photo.js), `activations`, `filters` and `gradcam`; it defines
 * `window.convlensLab`, the API (client.js). The book's settings come from one file, `lab.json`,
 * written from the convlens modules that define them by `convlens.tfjs` (`make lab`).
 */
import { LabError } from './errors.js';
import { Client, makeApi } from './client.js';
import { el, errorText } from './dom.js';
import { photoChooser } from './panel-photo.js';
import { activationsPanel } from './panel-activations.js';
import { filtersPanel } from './panel-filters.js';
import { gradcamPanel } from './panel-gradcam.js';

const BASE = new URL('./', import.meta.url);
const PANELS = { photo: null, activations: activationsPanel, filters: filtersPanel, gradcam: gradcamPanel };

const settings = fetch(new URL('lab.json', BASE)).then((response) => {
  if (!response.ok) throw new LabError(`The lab's settings (lab.json) did not load: HTTP ${response.status}.`);
  return response.json();
});
const client = new Client(BASE, new URLSearchParams(window.location.search).get('lab-backend'));
const { api, panels } = makeApi(client, settings);
window.convlensLab = api;

async function buildPanels() {
  const roots = Array.from(document.querySelectorAll('.convlens-lab[data-panel]'));
  if (!roots.length) return;
  if (!document.querySelector('link[data-convlens-lab]')) {
    document.head.append(el('link', { rel: 'stylesheet', href: new URL('convlens-lab.css', BASE).href, 'data-convlens-lab': true }));
  }
  let lab;
  try {
    lab = await settings;
  } catch (error) {
    roots.forEach((root) => root.replaceChildren(el('p', { class: 'convlens-lab-message', 'data-kind': 'error' }, errorText(error))));
    return;
  }
  const hasPhotoPanel = roots.some((root) => root.dataset.panel === 'photo');
  let shared = null;
  const waiting = [];
  for (const root of roots) {
    const kind = root.dataset.panel;
    root.replaceChildren();
    if (!(kind in PANELS)) {
      root.append(el('p', { class: 'convlens-lab-message', 'data-kind': 'error' }, `Unknown lab panel ${JSON.stringify(kind)}; choose one of ${Object.keys(PANELS).join(', ')}.`));
      continue;
    }
    let photos = null;
    if (kind === 'photo' || (kind !== 'filters' && !hasPhotoPanel)) {
      photos = photoChooser(lab, panels, client, { arrival: kind === 'photo' });
      root.append(photos.root);
      if (kind === 'photo') shared = photos;
    }
    if (kind !== 'photo') {
      const panel = el('div', { class: 'convlens-lab-panel' });
      root.append(panel);
      PANELS[kind](lab, panels, panel, photos || { onPhoto: (listener) => waiting.push(listener) }, { ...root.dataset });
    }
    root.dataset.ready = 'true';
  }
  for (const listener of waiting) shared?.onPhoto(listener);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', buildPanels);
else buildPanels();

export default api;
