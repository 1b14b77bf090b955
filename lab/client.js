/**
 * The page's side of the worker (worker.js): requests and answers, the download's progress, and
 * `window.convlensLab`, the API that the tests and curious readers call (see the README). Every
 * call posts to the worker; images are sent as the worker can take them (a URL, a File or Blob,
 * an ImageBitmap made from an image element, ImageData), and a photo decoded once is named by id.
 */
import { fromMessage, LabError } from './errors.js';
import { imageHeader } from './images.js';

/** The worker, started on first use; `call(op, args)` answers with the worker's result. */
export class Client {
  constructor(base, backend = null) {
    this.base = base;
    this.asked = backend;
    this.backend = null;
    this.pending = new Map();
    this.listeners = new Set();
    this.serial = 0;
    this.worker = null;
  }

  start() {
    if (this.worker) return;
    this.worker = new Worker(new URL('worker.js', this.base), { type: 'module' });
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (event) => {
      const error = new LabError(`The lab's worker did not start (${event.message || 'no message'}).`);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    this.initialized = this.call('init', { backend: this.asked }).then((name) => { this.backend = name; return name; });
  }

  receive(data) {
    if (data.event === 'download') {
      for (const listener of this.listeners) listener(data);
      return;
    }
    const waiting = this.pending.get(data.id);
    if (!waiting) return;
    if (data.step) {
      waiting.onStep?.(data.step);
      return;
    }
    this.pending.delete(data.id);
    if (data.error) waiting.reject(fromMessage(data.error));
    else waiting.resolve(data.result);
  }

  /** The worker's answer to `op` (`onStep` hears an ascent's steps); `transfer` lists objects handed over. */
  call(op, args = {}, { onStep = null, transfer = [] } = {}) {
    this.start();
    const id = ++this.serial;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onStep });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /** `listener({variant, loaded, total})` hears every model download's progress in bytes. */
  onDownload(listener) {
    this.listeners.add(listener);
  }
}

const imageSources = new WeakMap(); // image element or ImageData -> Promise<photo>

/**
 * What the worker takes for an API image: a photo from `photo()`, a URL (string or URL), a File
 * or Blob, an HTMLImageElement, an ImageBitmap, a canvas or ImageData. `[source, transfer]`.
 */
async function toSource(image, name) {
  if (image && typeof image.id === 'string' && image.pixels instanceof Float32Array) return [{ photo: image.id }, []];
  if (typeof image === 'string' || image instanceof URL) return [{ url: new URL(image, window.location.href).href, name }, []];
  if (image instanceof Blob) return [{ blob: image, name: name ?? (image.name ? `“${image.name}”` : 'the file') }, []];
  if (image instanceof ImageData) return [{ imageData: image, name: name ?? 'The ImageData' }, []];
  const drawable = image instanceof HTMLImageElement || image instanceof HTMLCanvasElement || image instanceof ImageBitmap;
  if (!drawable) throw new LabError('An image must be an HTMLImageElement, ImageData, a canvas, a URL, or a File.');
  if (image instanceof HTMLImageElement) {
    if (!image.complete) await image.decode();
    if (!image.naturalWidth) throw new LabError('The image element holds no decoded image.');
  }
  const bitmap = await createImageBitmap(image, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  return [{ bitmap, name: name ?? 'The image' }, [bitmap]];
}

/**
 * The API on window (every call answered by the worker; see the README's "API"), and the panels'
 * own calls beside it: `photo` (a decoded photo, named by id), `activationView`, `gradcamView`.
 * Returns `{api, panels}`.
 */
export function makeApi(client, settings) {
  const photo = async (image, name) => {
    const cacheable = typeof image === 'object' && image !== null && !(image instanceof Blob) && !(image instanceof URL);
    if (cacheable && imageSources.has(image)) return imageSources.get(image);
    const promise = toSource(image, name).then(([source, transfer]) => client.call('photo', { source }, { transfer }));
    if (cacheable && !(image instanceof ImageBitmap)) {
      imageSources.set(image, promise);
      promise.catch(() => imageSources.delete(image));
    }
    return promise;
  };
  const sourceOf = async (image) => [{ photo: (await photo(image)).id }, []];
  const variantOr = async (variant) => variant ?? (await settings).defaultVariant;
  const api = {
    ready: null,
    variants: [],
    get backend() { return client.backend; },
    /** Starts the worker, TensorFlow.js and its back-end (done on first use anyway); returns the back-end's name. */
    async init() { client.start(); return client.initialized; },
    async predict(image, variant) {
      const [source] = await sourceOf(image);
      return client.call('predict', { source, variant: await variantOr(variant) });
    },
    async activations(image, variant, layer) {
      const [source] = await sourceOf(image);
      return client.call('activations', { source, variant: await variantOr(variant), layer: layer ?? (await settings).activationLayers[0] });
    },
    async gradcam(image, variant) {
      const [source] = await sourceOf(image);
      return client.call('gradcam', { source, variant: await variantOr(variant) });
    },
    /** The ascent; `options.onStep(step, steps, {shape, rgba, activation})` hears each step, deprocessed (RGBA bytes). */
    async filterPattern(variant, layer, index = 0, options = {}) {
      const { signal, onStep, ...rest } = options;
      const job = `job-${Math.random().toString(36).slice(2)}`;
      const stop = () => client.call('abort', { job });
      signal?.addEventListener('abort', stop);
      try {
        const start = rest.start ? Float32Array.from(rest.start.data ?? rest.start) : undefined;
        const args = { variant: await variantOr(variant), layer, index, job, stream: Boolean(onStep), options: { ...rest, start } };
        return await client.call('filterPattern', args, { onStep: onStep && ((s) => onStep(s.step, s.steps, s)) });
      } finally {
        signal?.removeEventListener('abort', stop);
      }
    },
    startImage: (index, { seed, size } = {}) => client.call('startImage', { index, seed, size }),
    /** The model input of an image: {shape, data} (150 × 150 × 3 in [0, 1]) and notes, as the lab reads it. */
    async input(image) {
      const { pixels, notes } = await photo(image);
      return { shape: [...(await settings).imageSize, 3], data: pixels, notes };
    },
    imageHeader,
  };
  api.ready = settings.then((lab) => {
    api.variants = lab.variants.map((v) => v.name);
    return api;
  });
  api.ready.catch(() => {});
  const panels = Object.assign(Object.create(api), {
    photo,
    /** The activations panel's images of a layer (worker.js's `activationView`). */
    async activationView(image, variant, layer, options) {
      const [source] = await sourceOf(image);
      return client.call('activationView', { source, variant, layer, ...options });
    },
    /** The Grad-CAM panel's images (worker.js's `gradcamView`). */
    async gradcamView(image, variant) {
      const [source] = await sourceOf(image);
      return client.call('gradcamView', { source, variant });
    },
  });
  return { api, panels };
}
