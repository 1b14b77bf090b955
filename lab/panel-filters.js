/**
 * Filter patterns (chapter 3): the lecture's gradient ascent, run in the worker, drawn at every
 * step (deprocessed as convlens.filters.deprocess_image); "Run" starts it and "Stop" ends it.
 */
import { el, errorText, messageBox, saveButton, sizeCanvas, slider, variantSelect } from './dom.js';

export function filtersPanel(lab, api, root, photos, options) {
  const { ascent } = lab;
  let variant = options.variant || lab.defaultVariant;
  let layerIndex = lab.filterLayers.indexOf(options.layer);
  if (layerIndex < 0) layerIndex = lab.filterLayers.indexOf(lab.gradcamLayer);
  let filter = Number(options.index || 0);
  let running = null;
  const canvas = el('canvas', { class: 'convlens-lab-pattern', width: ascent.size, height: ascent.size, role: 'img', 'aria-label': 'The filter pattern' });
  const progress = el('progress', { max: ascent.steps, value: 0, 'aria-label': 'Gradient-ascent steps done' });
  const caption = el('p', { class: 'convlens-lab-caption' }, `Press “Run” for the lecture's ${ascent.steps} steps of gradient ascent from gray noise.`);
  const message = messageBox();
  const channelsOf = () => lab.filterChannels[lab.filterLayers[layerIndex]];
  const filterSlider = slider('Filter', channelsOf() - 1, filter, (f) => { filter = f; filterSlider.text.textContent = String(f); });
  const layerSlider = slider('Layer', lab.filterLayers.length - 1, layerIndex, (i) => {
    layerIndex = i;
    layerSlider.text.textContent = lab.filterLayers[i];
    filterSlider.setMax(channelsOf() - 1);
    filter = Number(filterSlider.input.value);
    filterSlider.text.textContent = String(filter);
  });
  layerSlider.text.textContent = lab.filterLayers[layerIndex];
  filterSlider.text.textContent = String(filter);
  const save = saveButton(canvas, () => `${variant}-${lab.filterLayers[layerIndex]}-filter-${filter}`);
  const run = el('button', { type: 'button', class: 'convlens-lab-button convlens-lab-run' }, 'Run');
  run.addEventListener('click', async () => {
    if (running) { running.abort(); return; }
    running = new AbortController();
    run.textContent = 'Stop';
    const layer = lab.filterLayers[layerIndex];
    progress.value = 0;
    delete root.dataset.drawn;
    message.show('Loading the model…', 'busy');
    try {
      await api.filterPattern(variant, layer, filter, {
        signal: running.signal,
        onStep: (step, steps, { shape: [size], rgba, activation }) => {
          sizeCanvas(canvas, size, size).putImageData(new ImageData(rgba, size, size), 0, 0);
          progress.value = step;
          root.dataset.drawn = String(step);
          save.disabled = false;
          message.show('');
          caption.textContent = `${layer}, filter ${filter}: step ${step} of ${steps}, mean activation ${activation.toFixed(4)}${activation === 0 ? ' (the filter is silent on this image: no gradient to climb)' : ''}.`;
        },
      });
      if (running.signal.aborted) caption.textContent += ' Stopped.';
      root.dataset.finished = 'true';
    } catch (error) {
      message.show(errorText(error), 'error');
    } finally {
      running = null;
      run.textContent = 'Run';
    }
  });
  const controls = el('div', { class: 'convlens-lab-controls' },
    variantSelect(lab, variant, (v) => { variant = v; }), layerSlider, filterSlider, run, progress, save);
  root.append(el('h3', { class: 'convlens-lab-title' }, 'Filter patterns'), controls, message, el('div', { class: 'convlens-lab-figures' }, canvas), caption);
}
