/**
 * The photo chooser: a file, a drop, the camera or a sample photo, the photo as the models see it,
 * and P(dog) from each model with the download's progress. `onPhoto(listener)` hears every photo.
 */
import { ONLY_CATS_AND_DOGS, drawImage, el, errorText, messageBox } from './dom.js';
import { paintRgb } from './colors.js';

const MB = 1e6;
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function progressBox(lab, client) {
  const total = lab.variants.reduce((sum, v) => sum + v.bytes, 0);
  const loaded = new Map();
  const bar = el('progress', { max: total, value: 0, 'aria-label': 'Models downloaded' });
  const text = el('span', {});
  const box = el('div', { class: 'convlens-lab-download', hidden: true }, text, bar);
  client.onDownload(({ variant, loaded: bytes }) => {
    loaded.set(variant, bytes);
    const sum = [...loaded.values()].reduce((a, b) => a + b, 0);
    bar.value = sum;
    text.textContent = `Downloading the models: ${(sum / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MB (once; your browser keeps them). `;
    box.hidden = sum >= total;
  });
  return box;
}

function cameraControls(onBlob, message) {
  if (!navigator.mediaDevices?.getUserMedia) return null;
  const video = el('video', { class: 'convlens-lab-video', playsinline: true, muted: true, hidden: true });
  let stream = null;
  let opening = false;
  const stop = () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    video.hidden = take.hidden = cancel.hidden = true;
  };
  const take = el('button', { type: 'button', class: 'convlens-lab-button', hidden: true, onclick: () => {
    const canvas = el('canvas', { width: video.videoWidth, height: video.videoHeight });
    canvas.getContext('2d').drawImage(video, 0, 0);
    stop();
    canvas.toBlob((blob) => onBlob(blob), 'image/png');
  } }, 'Take the photo');
  const cancel = el('button', { type: 'button', class: 'convlens-lab-button', hidden: true, onclick: stop }, 'Cancel');
  const start = el('button', { type: 'button', class: 'convlens-lab-button', onclick: async () => {
    if (stream || opening) { take.focus(); return; } // one stream at a time
    opening = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true });
      video.srcObject = stream;
      video.hidden = take.hidden = cancel.hidden = false;
      await video.play();
      take.focus();
    } catch (error) {
      stop();
      message.show(`No camera photo: ${error.message || error}.`, 'error');
    } finally {
      opening = false;
    }
  } }, 'Camera');
  const controls = el('span', { class: 'convlens-lab-camera' }, start, take, cancel, video);
  controls.stop = stop;
  return controls;
}

/** The chooser; `arrival`: start with the first sample photo, predicted and drawn. */
export function photoChooser(lab, api, client, { arrival = false } = {}) {
  const listeners = [];
  const message = messageBox();
  const [H, W] = lab.imageSize;
  const preview = el('canvas', { class: 'convlens-lab-preview', width: W, height: H, role: 'img', 'aria-label': 'The photo as the models see it' });
  const bars = el('div', { class: 'convlens-lab-bars' });
  const predictions = el('div', { class: 'convlens-lab-predictions' }, bars, progressBox(lab, client),
    el('p', { class: 'convlens-lab-caveat' }, ONLY_CATS_AND_DOGS));
  const file = el('input', { type: 'file', accept: 'image/*', class: 'convlens-lab-file' });
  const root = el('div', { class: 'convlens-lab-chooser' });
  let current = null; // the photo shown
  let announced = null; // the photo the other panels heard of
  let serial = 0;

  async function choose(source, name) {
    const mine = ++serial;
    message.show(`Reading ${name}…`, 'busy');
    try {
      const photo = await api.photo(source, name);
      if (mine !== serial) return;
      current = photo;
      drawImage(preview, W, H, (image) => paintRgb(image, photo.pixels));
      root.dataset.photo = photo.name;
      message.show(photo.notes.map(capital).join(' '), 'note');
      await showPredictions(photo, mine);
      if (mine !== serial) return;
      announced = photo;
      for (const listener of listeners) listener(photo);
    } catch (error) {
      if (mine === serial) message.show(errorText(error) + (current ? ' The previous photo is kept.' : ''), 'error');
    }
  }

  async function showPredictions(photo, mine) {
    bars.replaceChildren(el('p', {}, 'Computing P(dog) with each model…'));
    const rows = [];
    for (const v of lab.variants) {
      const p = await api.predict(photo, v.name);
      if (mine !== serial) return;
      rows.push(el('div', { class: 'convlens-lab-bar', 'data-variant': v.name, 'data-probability': p.toFixed(6) },
        el('span', { class: 'convlens-lab-bar-name' }, v.title),
        el('span', { class: 'convlens-lab-bar-track', role: 'img', 'aria-label': `P(dog) ${(100 * p).toFixed(1)} %` },
          el('span', { class: 'convlens-lab-bar-fill', style: `width:${(100 * p).toFixed(1)}%` })),
        el('span', { class: 'convlens-lab-bar-text' }, `P(dog) = ${p.toFixed(3)}: ${p >= 0.5 ? 'dog' : 'cat'}`)));
      bars.replaceChildren(...rows);
      root.dataset.firstResult ??= String(performance.now());
    }
  }

  file.addEventListener('change', () => { if (file.files[0]) choose(file.files[0], `“${file.files[0].name}”`); file.value = ''; });
  root.addEventListener('dragover', (event) => { event.preventDefault(); root.classList.add('convlens-lab-dragging'); });
  root.addEventListener('dragleave', () => root.classList.remove('convlens-lab-dragging'));
  root.addEventListener('drop', (event) => {
    event.preventDefault();
    root.classList.remove('convlens-lab-dragging');
    const dropped = event.dataTransfer?.files?.[0];
    if (dropped) choose(dropped, `“${dropped.name}”`);
    else message.show('Drop a photo file (JPEG, PNG, GIF, BMP or WebP) here.', 'error');
  });
  const sampleUrl = (sample) => new URL(sample.file, client.base).href;
  const samples = el('div', { class: 'convlens-lab-samples' }, ...lab.samples.map((sample) => el('button', {
    type: 'button', class: 'convlens-lab-sample', title: `A validation photo (${sample.source})`,
    onclick: () => choose(sampleUrl(sample), `the sample ${sample.file}`),
  }, el('img', { src: sampleUrl(sample), alt: `sample photo: a ${sample.label}`, width: 56, height: 56 }))));
  const camera = cameraControls((blob) => choose(blob, 'the camera photo'), message);
  const controls = el('div', { class: 'convlens-lab-controls' },
    el('label', { class: 'convlens-lab-button convlens-lab-choose' }, 'Choose a photo…', file), camera,
    el('span', { class: 'convlens-lab-hint' }, lab.samples.length ? 'or drop one here, or try a sample:' : 'or drop one here.'),
    samples);
  root.append(controls, message, el('div', { class: 'convlens-lab-photo-row' }, preview, predictions));
  if (arrival && lab.samples.length) choose(sampleUrl(lab.samples[0]), `the sample ${lab.samples[0].file}`);
  return { root, onPhoto: (listener) => { listeners.push(listener); if (announced) listener(announced); }, choose, message };
}
