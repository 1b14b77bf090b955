/**
 * Activations (chapter 2): a layer and a channel, in viridis on one colour scale for the whole
 * layer (0 to the layer's percentile from lab.json), with the layer's grid beside it. Opens on a
 * channel that is active for the photo. The worker draws the pixels; the page only shows them.
 */
import { lut } from './colors.js';
import { colourBarFigure, el, errorText, messageBox, saveButton, sizeCanvas, slider, variantSelect } from './dom.js';

const put = (canvas, rgba, width, height) => sizeCanvas(canvas, width, height).putImageData(new ImageData(rgba, width, height), 0, 0);

export function activationsPanel(lab, api, root, photos, options) {
  let variant = options.variant || lab.defaultVariant;
  let layerIndex = Math.max(0, lab.activationLayers.indexOf(options.layer));
  let channel = Number(options.index || 0);
  let opened = options.index !== undefined; // a channel the reader (or the page) chose: kept
  let photo = null;
  let layout = null; // the grid's, for clicks
  const big = el('canvas', { class: 'convlens-lab-channel', role: 'img', 'aria-label': 'The chosen channel (viridis)' });
  const grid = el('canvas', { class: 'convlens-lab-grid', role: 'img', 'aria-label': "The layer's channels; click one to show it large" });
  const caption = el('p', { class: 'convlens-lab-caption' }, 'Choose a photo to see what each layer makes of it.');
  const percentile = `the ${lab.activationPercentile}th percentile of the layer's values for this photo`;
  const bar = colourBarFigure(lut(lab.colormaps.viridis), 'viridis', `activation: 0 (none) is dark purple in every channel, ${percentile} is yellow`, ['0', '…']);
  const message = messageBox();
  const layerSlider = slider('Layer', lab.activationLayers.length - 1, layerIndex, (i) => { layerIndex = i; draw(); });
  const channelSlider = slider('Channel', 0, channel, (c) => { channel = c; opened = true; draw(false); });
  const save = saveButton(big, () => `${variant}-${lab.activationLayers[layerIndex]}-channel-${channel}`);
  let serial = 0;

  async function draw(wholeLayer = true) {
    if (!photo) return;
    const mine = ++serial;
    const layer = lab.activationLayers[layerIndex];
    layerSlider.text.textContent = layer;
    try {
      const view = await api.activationView(photo, variant, layer, { channel, findActive: !opened, grid: wholeLayer });
      if (mine !== serial) return;
      const [h, w, c] = view.shape;
      channel = view.channel;
      channelSlider.setMax(c - 1);
      channelSlider.input.value = channel;
      channelSlider.text.textContent = `${channel} of ${c}`;
      put(big, view.rgba, w, h);
      if (view.grid) {
        layout = { ...view.grid, h, w, c };
        put(grid, view.grid.rgba, view.grid.width, view.grid.height);
      }
      bar.setEnds('0', view.high.toPrecision(3));
      caption.textContent = `${layer}: ${h} × ${w} × ${c}. Channel ${channel}${view.blank ? ' is blank (zero everywhere) for this photo' : ''}, in viridis on one scale for the whole layer: 0 is dark purple in every channel and ${view.high.toPrecision(3)} (${percentile}) is yellow.`;
      save.disabled = false;
      root.dataset.drawn = `${variant}/${layer}/${channel}`;
      message.show('');
    } catch (error) {
      message.show(errorText(error), 'error');
    }
  }

  grid.addEventListener('click', (event) => {
    if (!layout) return;
    const { columns, gap, h, w, c } = layout;
    const box = grid.getBoundingClientRect();
    const x = Math.floor((((event.clientX - box.left) / box.width) * grid.width) / (w + gap));
    const y = Math.floor((((event.clientY - box.top) / box.height) * grid.height) / (h + gap));
    if (y * columns + x < c) {
      channel = y * columns + x;
      opened = true;
      draw(false);
    }
  });
  const controls = el('div', { class: 'convlens-lab-controls' },
    variantSelect(lab, variant, (v) => { variant = v; draw(); }), layerSlider, channelSlider, save);
  root.append(el('h3', { class: 'convlens-lab-title' }, 'Activations'), controls, message,
    el('div', { class: 'convlens-lab-figures' }, el('div', { class: 'convlens-lab-stack' }, big, bar), grid), caption);
  photos.onPhoto((p) => { photo = p; draw(); });
}
