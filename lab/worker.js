/**
 * The lab's worker (a module worker): TensorFlow.js, the models and every computation, so that
 * the page only draws. The page's client (client.js) posts `{id, op, args}`; the worker answers
 * `{id, result}` or `{id, error}`, posts `{id, step}` during an ascent and `{event: 'download'}`
 * while a model's weights arrive. TensorFlow.js comes from the npm registry (package-lock.json),
 * copied into vendor/ beside this file; its UMD bundles define the global `tf` when imported.
 */
import './vendor/tf.min.js';
import './vendor/tf-backend-wasm.min.js';
import { errorMessage, LabError } from './errors.js';
import { decodeSource } from './decode.js';
import { Net } from './net.js';
import { deprocess, filterPattern, forwardPass, gradcam, startImage } from './techniques.js';
import { activeChannel, camImages, layerHigh, layerImages, lut, upsample } from './colors.js';

const tf = globalThis.tf;
const BASE = new URL('./', import.meta.url);
const KEPT_PHOTOS = 24;
let ready = null;
const nets = new Map(); // variant -> Promise<Net>
const photos = new Map(); // key -> Promise<photo>, the newest last
const passes = new Map(); // variant -> {photo, out}: one photo's activations per model
const jobs = new Map(); // id -> {aborted}
const highs = new WeakMap(); // activation tensor -> the top of its colour scale
const tables = {}; // colour map name -> table
let serial = 0;

/** Whether WebGL runs on a real GPU (not a software renderer such as SwiftShader or llvmpipe). */
function hasRealGpu() {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl ? String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)) : '';
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
    return Boolean(gl) && !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
  } catch {
    return false;
  }
}

/** lab.json and the back-end: the one asked for (`?lab-backend=` of the page), else WebGL on a GPU, else WASM. */
function setUp(asked) {
  ready ??= (async () => {
    tf.wasm.setWasmPaths(new URL('vendor/', BASE).href);
    const order = asked ? [asked] : hasRealGpu() ? ['webgl', 'wasm', 'cpu'] : ['wasm', 'cpu'];
    for (const name of order) {
      try {
        if (await tf.setBackend(name)) break;
      } catch (error) {
        console.warn(`convlens lab: back-end ${name} failed (${error}); trying the next one`);
      }
    }
    await tf.ready();
    tf.enableProdMode();
    const response = await fetch(new URL('lab.json', BASE));
    if (!response.ok) throw new LabError(`The lab's settings (lab.json) did not load: HTTP ${response.status}.`);
    return response.json();
  })();
  return ready;
}

/** The weights' shards, fetched with the bytes counted as they arrive (posted to the page). */
function fetchCounting(variant, total) {
  let loaded = 0;
  let said = 0;
  return (urls) => Promise.all(urls.map(async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new LabError(`The ${variant} model did not load (${url}: HTTP ${response.status}).`);
    const reader = response.body.getReader();
    const chunks = [];
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      chunks.push(chunk.value);
      loaded += chunk.value.length;
      if (performance.now() - said > 100 || loaded >= total) {
        said = performance.now();
        self.postMessage({ event: 'download', variant, loaded, total });
      }
    }
    return (await new Blob(chunks).arrayBuffer());
  }));
}

function loadNet(lab, variant) {
  if (!nets.has(variant)) {
    const entry = lab.variants.find((v) => v.name === variant);
    if (!entry) throw new LabError(`Unknown variant ${JSON.stringify(variant)}; choose one of ${lab.variants.map((v) => v.name).join(', ')}.`);
    const promise = (async () => {
      const url = new URL(entry.model, BASE);
      const response = await fetch(url);
      if (!response.ok) throw new LabError(`The ${variant} model did not load (${url}: HTTP ${response.status}).`);
      const spec = await response.json();
      const load = tf.io.weightsLoaderFactory(fetchCounting(variant, entry.bytes));
      const weights = await load(spec.weightsManifest, new URL('./', url).href.replace(/\/$/, ''));
      self.postMessage({ event: 'download', variant, loaded: entry.bytes, total: entry.bytes }); // model.json too
      return new Net(tf, spec, weights);
    })();
    promise.catch(() => nets.delete(variant));
    nets.set(variant, promise);
  }
  return nets.get(variant);
}

/** The photo of a source: `{photo: id}` for one decoded before, else decoded (URLs are kept by URL). */
function photoOf(lab, source) {
  const key = source.photo ?? (source.url ? `url:${source.url}` : `photo:${++serial}`);
  if (!photos.has(key)) {
    if (source.photo) throw new LabError('That photo is no longer kept by the lab: give the image again.');
    const promise = decodeSource(tf, lab, source).then((photo) => ({ ...photo, id: key }));
    promise.catch(() => photos.delete(key));
    photos.set(key, promise);
    if (photos.size > KEPT_PHOTOS) photos.delete(photos.keys().next().value);
  }
  return photos.get(key);
}

/**
 * `read(out)` on one photo's forward pass through `variant` (kept per model: the activations of
 * the photo shown). A pass replaced while another request still reads it is freed after that read.
 */
async function withPass(lab, source, variant, read) {
  const [photo, net] = await Promise.all([photoOf(lab, source), loadNet(lab, variant)]);
  let entry = passes.get(variant);
  if (entry?.photo !== photo) {
    if (entry) retire(entry);
    entry = { photo, out: forwardPass(tf, lab, net, photo), users: 0, retired: false };
    passes.set(variant, entry);
  }
  entry.users++;
  try {
    return await read(entry.out);
  } finally {
    entry.users--;
    if (entry.retired && !entry.users) tf.dispose(entry.out);
  }
}

function retire(entry) {
  entry.retired = true;
  if (!entry.users) tf.dispose(entry.out);
}

function checkLayer(lab, layer) {
  if (!lab.activationLayers.includes(layer)) {
    throw new LabError(`No activations for layer ${JSON.stringify(layer)}; choose one of ${lab.activationLayers.join(', ')}.`);
  }
}

const OPS = {
  init: async () => tf.getBackend(),
  photo: async (lab, { source }) => {
    const { id, name, width, height, notes, pixels } = await photoOf(lab, source);
    return { id, name, width, height, notes, pixels: pixels.slice() };
  },
  predict: async (lab, { source, variant }) => withPass(lab, source, variant, async (out) => (await out.probability.data())[0]),
  activations: async (lab, { source, variant, layer }) => {
    checkLayer(lab, layer);
    return withPass(lab, source, variant, async ({ layers }) => ({ shape: layers[layer].shape.slice(1), data: await layers[layer].data() }));
  },
  /** The activations panel's images: one channel (the first active one from `channel` when `findActive`), and the grid. */
  activationView: async (lab, { source, variant, layer, channel, findActive, grid }) => {
    checkLayer(lab, layer);
    tables.viridis ??= lut(lab.colormaps.viridis);
    return withPass(lab, source, variant, async ({ layers }) => {
      const tensor = layers[layer];
      const [shape, data] = [tensor.shape.slice(1), await tensor.data()];
      if (!highs.has(tensor)) highs.set(tensor, layerHigh(data, lab.activationPercentile));
      const chosen = Math.min(channel, shape[2] - 1);
      const shown = findActive ? activeChannel(data, shape[2], chosen) : chosen;
      return { shape, high: highs.get(tensor), ...layerImages(data, shape, highs.get(tensor), shown, tables.viridis, grid) };
    });
  },
  gradcam: async (lab, { source, variant }) => gradcam(tf, lab, await loadNet(lab, variant), await photoOf(lab, source)),
  /** The Grad-CAM panel's images: the heatmap (jet), upsampled to the photo, alone and over the photo. */
  gradcamView: async (lab, { source, variant }) => {
    const photo = await photoOf(lab, source);
    const cam = await gradcam(tf, lab, await loadNet(lab, variant), photo);
    const [H, W] = lab.imageSize;
    const [heat, overlay] = [0, 1].map(() => ({ width: W, height: H, data: new Uint8ClampedArray(H * W * 4) }));
    tables.jet ??= lut(lab.colormaps.jet);
    camImages(upsample(cam.data, ...cam.shape, H, W), photo.pixels, tables.jet, lab.overlayAlpha, heat, overlay);
    return { probability: cam.probability, classIndex: cam.classIndex, heat: heat.data, overlay: overlay.data };
  },
  startImage: async (lab, { index, seed, size }) => {
    const image = startImage(tf, lab.ascent, index, { seed, size });
    const result = { shape: image.shape, data: await image.data() };
    image.dispose();
    return result;
  },
  filterPattern: async (lab, { variant, layer, index, options, job, stream }, id) => {
    const signal = { aborted: false };
    jobs.set(job, signal);
    try {
      const onStep = stream ? async (step, steps, { shape, tensor, activation }) => {
        const shown = tf.tidy(() => tf.cast(tf.concat([tf.mul(deprocess(tf, tf.squeeze(tensor, [0]), lab.ascent.deprocessStd), 255),
          tf.fill([shape[0], shape[1], 1], 255)], 2), 'int32'));
        const rgba = Uint8ClampedArray.from(await shown.data());
        shown.dispose();
        self.postMessage({ id, step: { step, steps, shape, activation, rgba } }, [rgba.buffer]);
        await new Promise((resolve) => setTimeout(resolve, 0)); // let an abort message in
      } : null;
      return await filterPattern(tf, lab, await loadNet(lab, variant), layer, index, { ...options, signal, onStep });
    } finally {
      jobs.delete(job);
    }
  },
  abort: async (lab, { job }) => { if (jobs.has(job)) jobs.get(job).aborted = true; },
};

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    const lab = await setUp(op === 'init' ? args.backend : null);
    const result = await OPS[op](lab, args, id);
    const fresh = { photo: [result?.pixels], activationView: [result?.rgba, result?.grid?.rgba], gradcamView: [result?.heat, result?.overlay] }[op] ?? [];
    self.postMessage({ id, result }, fresh.filter(Boolean).map((array) => array.buffer)); // tensors' own buffers are copied
  } catch (error) {
    if (!(error instanceof LabError)) console.error('convlens lab worker:', error);
    self.postMessage({ id, error: errorMessage(error) });
  }
};
