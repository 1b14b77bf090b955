/** The panels' small pieces of page: elements, messages, sliders, colour bars, PNG saving. */
import { LabError } from './errors.js';
import { colourBar } from './colors.js';

/** A new element with attributes (`on...` are listeners) and children. */
export const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
};

/** A polite live region; `show(text, kind)` with kind 'note', 'busy' or 'error'; no text hides it. */
export function messageBox() {
  const box = el('div', { class: 'convlens-lab-message', role: 'status', 'aria-live': 'polite' });
  box.show = (text, kind = 'note') => {
    if (box.textContent === text && box.dataset.kind === kind) return; // no work for the page's layout
    box.textContent = text;
    box.dataset.kind = kind;
    box.hidden = !text;
  };
  box.hidden = true;
  return box;
}

/** What the reader reads for an error: the lab's own message, else a general one (logged). */
export function errorText(error) {
  if (error instanceof LabError) return error.message;
  console.error('convlens lab:', error);
  return `Something went wrong in the lab (${error?.message || error}); the page still works: try another photo or setting.`;
}

export function variantSelect(lab, chosen, onChange) {
  const select = el('select', { class: 'convlens-lab-variant', 'aria-label': 'Model', onchange: () => onChange(select.value) });
  for (const v of lab.variants) select.append(el('option', { value: v.name, selected: v.name === chosen }, v.title));
  return select;
}

/** A labelled range input with its value shown; `.input`, `.text`, `.setMax(top)`. */
export function slider(label, max, value, onInput) {
  const input = el('input', { type: 'range', min: 0, max, value, step: 1 });
  const text = el('span', { class: 'convlens-lab-value' });
  input.addEventListener('input', () => onInput(Number(input.value)));
  const row = el('label', { class: 'convlens-lab-slider' }, el('span', {}, label), input, text);
  row.input = input;
  row.text = text;
  row.setMax = (top) => {
    input.max = top;
    if (Number(input.value) > top) input.value = top;
  };
  return row;
}

/** `canvas` sized to width × height (only when it changes), and its 2D context. */
export function sizeCanvas(canvas, width, height) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  return canvas.getContext('2d');
}

/** Fill `canvas` (sized to w × h) through `fill(image)`, an RGBA ImageData. */
export function drawImage(canvas, w, h, fill) {
  const context = sizeCanvas(canvas, w, h);
  const image = context.createImageData(w, h);
  fill(image);
  context.putImageData(image, 0, 0);
}

/** A button that saves `canvas` as a PNG file named by `name()` (disabled until something is drawn). */
export function saveButton(canvas, name, label = 'Save PNG') {
  const button = el('button', { type: 'button', class: 'convlens-lab-button convlens-lab-save', disabled: true }, label);
  button.addEventListener('click', () => canvas.toBlob((blob) => {
    const link = el('a', { href: URL.createObjectURL(blob), download: `${name()}.png` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }, 'image/png'));
  return button;
}

/** A colour bar of `table` with its two ends and what the colours mean; `.setEnds(low, high)`. */
export function colourBarFigure(table, name, meaning, [low, high]) {
  const canvas = el('canvas', { class: 'convlens-lab-colourbar', role: 'img', 'aria-label': `Colour bar (${name}): ${meaning}` });
  drawImage(canvas, 256, 1, (image) => colourBar(image, table));
  const ends = [el('span', {}, low), el('span', {}, high)];
  const figure = el('figure', { class: 'convlens-lab-scale' }, canvas,
    el('span', { class: 'convlens-lab-scale-ends' }, ...ends), el('figcaption', {}, meaning));
  figure.setEnds = (a, b) => { ends[0].textContent = a; ends[1].textContent = b; };
  return figure;
}

/** The sentence said near every prediction: what these models know. */
export const ONLY_CATS_AND_DOGS = 'These models know only cats and dogs: they call anything, a cup or a car, one of the two.';
