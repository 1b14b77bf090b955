/**
 * The live lab of "Seeing What Convnets Learn": the book's three trained convnets in the reader's
 * browser, with TensorFlow.js (WASM back-end; WebGL where the reader has a real GPU).
 *
 * One ES module serves the lab page and the panels of chapters 2-4. It finds every
 * `<div class="convlens-lab" data-panel="...">` of the page (written by the book's `convlens-lab`
 * directive, book/_ext/convlens_lab.py) and builds the panel: `photo` (choice of a photo and
 * P(dog) from each model), `activations`, `filters` and `gradcam`. It also defines
 * `window.convlensLab`, the API that the tests and curious readers call (see the README).
 *
 * Nothing here restates the architecture or the book's settings: `lab.json` and each model's
 * `model.json` are written from the Keras models and the convlens modules by `convlens.tfjs`
 * (`make lab`); the graph is rebuilt from the exported layer list with TensorFlow.js ops.
 * TensorFlow.js itself comes from the npm registry (package-lock.json), copied beside this file.
 */

const BASE = new URL('./', import.meta.url);
const LARGE_FILE_HEAD = 512 * 1024; // bytes read to find an image's size before decoding it

class LabError extends Error {}

// ------------------------------------------------------------------------------------------------
// Settings, TensorFlow.js and the back-end

let settingsPromise = null;
let tfPromise = null;
let tfLib = null;

function settings() {
  settingsPromise ??= fetch(new URL('lab.json', BASE)).then((response) => {
    if (!response.ok) throw new LabError(`The lab's settings (lab.json) did not load: HTTP ${response.status}.`);
    return response.json();
  });
  return settingsPromise;
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.onload = resolve;
    script.onerror = () => reject(new LabError(`The lab could not load ${url}.`));
    document.head.append(script);
  });
}

/** Whether WebGL runs on a real GPU (not a software renderer such as SwiftShader or llvmpipe). */
function hasRealGpu() {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') || document.createElement('canvas').getContext('webgl');
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
  } catch {
    return false;
  }
}

/** The back-ends to try, best first: `?lab-backend=` in the page's URL, else WebGL on a GPU, else WASM. */
function backendOrder() {
  const asked = new URLSearchParams(window.location.search).get('lab-backend');
  if (asked) return [asked];
  return hasRealGpu() ? ['webgl', 'wasm', 'cpu'] : ['wasm', 'cpu'];
}

/** TensorFlow.js, loaded on first use (classic scripts: they define the global `tf`). */
function loadTf() {
  tfPromise ??= (async () => {
    const amd = window.define;
    window.define = undefined; // a page with require.js would swallow the UMD bundles
    try {
      await loadScript(new URL('vendor/tf.min.js', BASE));
      await loadScript(new URL('vendor/tf-backend-wasm.min.js', BASE));
    } finally {
      window.define = amd;
    }
    const tf = window.tf;
    tf.wasm.setWasmPaths(new URL('vendor/', BASE).href);
    for (const name of backendOrder()) {
      try {
        if (await tf.setBackend(name)) break;
      } catch (error) {
        console.warn(`convlens lab: back-end ${name} failed (${error}); trying the next one`);
      }
    }
    await tf.ready();
    tf.enableProdMode();
    tfLib = tf;
    return tf;
  })();
  return tfPromise;
}

// ------------------------------------------------------------------------------------------------
// numpy's default_rng((seed, index)).random(): PCG64 seeded by a SeedSequence, so that the start
// image of a filter pattern is the one convlens.filters.start_image makes (same seed, same image).

const mul32 = (a, b) => Math.imul(a, b) >>> 0;

function seedSequenceWords(entropy) {
  const hash = { value: 0x43b0d7e5 };
  const hashmix = (value) => {
    value = (value ^ hash.value) >>> 0;
    hash.value = mul32(hash.value, 0x931e8875);
    value = mul32(value, hash.value);
    return (value ^ (value >>> 16)) >>> 0;
  };
  const mix = (x, y) => {
    const result = (mul32(0xca01f9dd, x) - mul32(0x4973f715, y)) >>> 0;
    return (result ^ (result >>> 16)) >>> 0;
  };
  const pool = [0, 1, 2, 3].map((i) => hashmix(i < entropy.length ? entropy[i] : 0));
  for (let src = 0; src < 4; src++) {
    for (let dst = 0; dst < 4; dst++) if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
  }
  for (let src = 4; src < entropy.length; src++) {
    for (let dst = 0; dst < 4; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  }
  let constant = 0x8b51f9dd;
  const words = [];
  for (let i = 0; i < 8; i++) {
    let value = (pool[i % 4] ^ constant) >>> 0;
    constant = mul32(constant, 0x58f38ded);
    value = mul32(value, constant);
    words.push((value ^ (value >>> 16)) >>> 0);
  }
  return [0, 1, 2, 3].map((i) => (BigInt(words[2 * i + 1]) << 32n) | BigInt(words[2 * i]));
}

function uint32Words(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new LabError(`A seed must be a whole number of 0 or more; got ${value}.`);
  const words = [];
  let rest = BigInt(value);
  do {
    words.push(Number(rest & 0xffffffffn));
    rest >>= 32n;
  } while (rest > 0n);
  return words;
}

/** `count` doubles of numpy.random.default_rng(seedParts).random(count). */
export function numpyUniform(seedParts, count) {
  const M128 = (1n << 128n) - 1n;
  const M64 = (1n << 64n) - 1n;
  const MULT = (0x2360ed051fc65da4n << 64n) | 0x4385df649fccf645n;
  const [s0, s1, i0, i1] = seedSequenceWords(seedParts.flatMap(uint32Words));
  const inc = ((((i0 << 64n) | i1) << 1n) | 1n) & M128;
  let state = inc;
  state = (state + ((s0 << 64n) | s1)) & M128;
  state = (state * MULT + inc) & M128;
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    state = (state * MULT + inc) & M128;
    const rotation = state >> 122n;
    const x = ((state >> 64n) ^ state) & M64;
    const rotated = ((x >> rotation) | (x << ((64n - rotation) & 63n))) & M64;
    out[k] = Number(rotated >> 11n) / 9007199254740992;
  }
  return out;
}

/** convlens.filters.start_image(index, seed, size): gray plus uniform noise, (size, size, 3), float32. */
export async function startImage(index, { seed, size } = {}) {
  const { ascent } = await settings();
  seed ??= ascent.seed;
  size ??= ascent.size;
  const noise = numpyUniform([seed, index], size * size * 3);
  const data = new Float32Array(noise.length);
  for (let i = 0; i < noise.length; i++) data[i] = noise[i] * ascent.noiseAmplitude + ascent.noiseOffset;
  return { shape: [size, size, 3], data };
}

// ------------------------------------------------------------------------------------------------
// The graph, rebuilt from the layer list of model.json with TensorFlow.js ops.
//
// Every layer has a custom gradient: the same rule on every back-end, and TensorFlow's. TensorFlow
// gives the gradient of a max-pool window to the window's first maximum (row-major), also when the
// window is all zeros (common after a ReLU); the WASM back-end drops it there, which changed
// Grad-CAM by up to 0.26. Convolutions propagate back as a forward convolution with the flipped
// kernel (fast on every back-end).

function activationGrad(tf, dy, y, activation) {
  if (activation === 'relu') return tf.mul(dy, tf.step(y)); // y > 0 exactly where the input was > 0
  if (activation === 'sigmoid') return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
  return dy;
}

function convLayer(tf, spec, kernel, bias) {
  const [kh, kw] = spec.kernelSize;
  const { strides, padding } = spec;
  const fast = strides[0] === 1 && strides[1] === 1 && (padding === 'valid' || (kh % 2 === 1 && kw % 2 === 1));
  let flipped = null;
  const inputGrad = (dz, xShape) => {
    if (!fast) return tf.conv2dTranspose(dz, kernel, xShape, strides, padding);
    flipped ??= tf.keep(tf.tidy(() => tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])));
    const padded = padding === 'valid' ? tf.pad(dz, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]) : dz;
    return tf.conv2d(padded, flipped, 1, padding);
  };
  const ops = {};
  const op = (activation) => {
    ops[activation] ??= tf.customGrad((x, save) => {
      const y = tf.fused.conv2d({ x, filter: kernel, strides, pad: padding, bias: bias ?? undefined, activation });
      save([y]);
      return { value: y, gradFunc: (dy, [saved]) => inputGrad(activationGrad(tf, dy, saved, activation), x.shape) };
    });
    return ops[activation];
  };
  return { ...spec, apply: (x, activation = spec.activation) => op(activation)(x) };
}

function denseLayer(tf, spec, kernel, bias) {
  const ops = {};
  const op = (activation) => {
    ops[activation] ??= tf.customGrad((x, save) => {
      let y = tf.matMul(x, kernel);
      if (bias) y = tf.add(y, bias);
      y = activation === 'relu' ? tf.relu(y) : activation === 'sigmoid' ? tf.sigmoid(y) : y;
      save([y]);
      return { value: y, gradFunc: (dy, [saved]) => tf.matMul(activationGrad(tf, dy, saved, activation), kernel, false, true) };
    });
    return ops[activation];
  };
  return { ...spec, apply: (x, activation = spec.activation) => op(activation)(x) };
}

/**
 * TensorFlow's max-pool gradient for non-overlapping windows: all of it to the window's first
 * maximum in row-major order. On the WASM and CPU back-ends a plain loop over the values (twice as
 * fast there as tensor ops); on the others, the same rule with tensor ops (no read-back).
 */
function maxPoolGrad(tf, x, y, dy, [ph, pw]) {
  if (['wasm', 'cpu'].includes(tf.getBackend())) return maxPoolGradLoop(tf, x, y, dy, [ph, pw]);
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  const windows = tf.reshape(oh * ph === h && ow * pw === w ? x : tf.slice(x, 0, [n, oh * ph, ow * pw, c]), [n * oh, ph, ow, pw * c]);
  const [top, dTop] = [tf.reshape(y, [n * oh, 1, ow, c]), tf.reshape(dy, [n * oh, 1, ow, c])];
  let free = null;
  const rows = [];
  for (let a = 0; a < ph; a++) {
    const columns = [];
    for (let b = 0; b < pw; b++) {
      const hit = tf.cast(tf.equal(tf.slice(windows, [0, a, 0, b * c], [n * oh, 1, ow, c]), top), 'float32');
      const take = free ? tf.mul(hit, free) : hit;
      free = free ? tf.sub(free, take) : tf.sub(1, take);
      columns.push(tf.mul(dTop, take));
    }
    rows.push(tf.concat(columns, 3));
  }
  const dx = tf.reshape(tf.concat(rows, 1), [n, oh * ph, ow * pw, c]);
  return oh * ph < h || ow * pw < w ? tf.pad(dx, [[0, 0], [0, h - oh * ph], [0, w - ow * pw], [0, 0]]) : dx;
}

function maxPoolGradLoop(tf, x, y, dy, [ph, pw]) {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  const [xs, ys, gs] = [x.dataSync(), y.dataSync(), dy.dataSync()];
  const dx = new Float32Array(xs.length);
  for (let m = 0; m < n; m++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const out = ((m * oh + i) * ow + j) * c;
        for (let k = 0; k < c; k++) {
          const top = ys[out + k];
          let found = -1;
          for (let a = 0; a < ph && found < 0; a++) {
            for (let b = 0; b < pw; b++) {
              const at = ((m * h + i * ph + a) * w + j * pw + b) * c + k;
              if (xs[at] === top) { found = at; break; }
            }
          }
          if (found >= 0) dx[found] = gs[out + k];
        }
      }
    }
  }
  return tf.tensor4d(dx, x.shape);
}

function poolLayer(tf, spec) {
  const op = tf.customGrad((x, save) => {
    const y = tf.maxPool(x, spec.poolSize, spec.strides, 'valid');
    save([x, y]);
    return { value: y, gradFunc: (dy, [sx, sy]) => maxPoolGrad(tf, sx, sy, dy, spec.poolSize) };
  });
  return { ...spec, apply: (x) => op(x) };
}

function makeLayer(tf, spec, weights) {
  const tensors = spec.weights.map((name) => {
    if (!weights[name]) throw new LabError(`model.json names weight ${name}, which its shards do not hold.`);
    return weights[name];
  });
  const [kernel, bias] = [tensors[0], spec.useBias ? tensors[1] : null];
  switch (spec.type) {
    case 'Conv2D': return convLayer(tf, spec, kernel, bias);
    case 'Dense': return denseLayer(tf, spec, kernel, bias);
    case 'MaxPooling2D': return poolLayer(tf, spec);
    case 'Flatten': return { ...spec, apply: (x) => tf.reshape(x, [x.shape[0], -1]) };
    case 'Dropout': return { ...spec, apply: (x) => x }; // inference
    default: throw new LabError(`The lab cannot build layer ${spec.name} of type ${spec.type}.`);
  }
}

class Net {
  constructor(tf, spec, weights) {
    this.variant = spec.variant;
    this.input = spec.convlensLayers[0];
    this.layers = spec.convlensLayers.slice(1).map((layer) => makeLayer(tf, layer, weights));
  }

  index(name, among) {
    const i = this.layers.findIndex((layer) => layer.name === name);
    if (i < 0 || (among && !among.includes(name))) {
      throw new LabError(`No layer ${JSON.stringify(name)} to use here; choose one of ${(among || this.layers.map((l) => l.name)).join(', ')}.`);
    }
    return i;
  }

  /** Layers `from`..`to` (inclusive) on `x`; `logit` leaves out the last layer's sigmoid; `keep` collects outputs. */
  run(x, from = 0, to = this.layers.length - 1, { logit = false, keep = null } = {}) {
    for (let i = from; i <= to; i++) {
      const layer = this.layers[i];
      x = logit && i === this.layers.length - 1 ? layer.apply(x, 'linear') : layer.apply(x);
      if (keep && keep.names.includes(layer.name)) keep.out[layer.name] = x;
    }
    return x;
  }
}

const nets = new Map();

/** The model of `variant`, fetched and built the first time it is asked for. */
function loadNet(variant) {
  if (!nets.has(variant)) {
    const promise = (async () => {
      const [lab, tf] = await Promise.all([settings(), loadTf()]);
      const entry = lab.variants.find((v) => v.name === variant);
      if (!entry) throw new LabError(`Unknown variant ${JSON.stringify(variant)}; choose one of ${lab.variants.map((v) => v.name).join(', ')}.`);
      const url = new URL(entry.model, BASE);
      const response = await fetch(url);
      if (!response.ok) throw new LabError(`The ${variant} model did not load (${url}: HTTP ${response.status}).`);
      const spec = await response.json();
      const weights = await tf.io.loadWeights(spec.weightsManifest, new URL('./', url).href.replace(/\/$/, ''));
      return new Net(tf, spec, weights);
    })();
    promise.catch(() => nets.delete(variant));
    nets.set(variant, promise);
  }
  return nets.get(variant);
}

// ------------------------------------------------------------------------------------------------
// Images: the book's loader, in the browser. Sizes are read from the file's header before it is
// decoded; transparency is composited over white and gray copied to R, G and B; any other size
// is resized as TensorFlow's tf.image.resize(..., antialias=True) does (triangle kernel), then
// rounded to whole 0-255 values. Browsers' own resizing differs, so the lab never uses it.

function readUint(bytes, at, size, little) {
  let value = 0;
  for (let i = 0; i < size; i++) value += bytes[at + i] * 2 ** (8 * (little ? i : size - 1 - i));
  return value;
}

/** `{type, width, height}` from an image file's first bytes; `type` null when it is not an image. */
export function imageHeader(bytes) {
  const ascii = (at, n) => String.fromCharCode(...bytes.slice(at, at + n));
  if (bytes.length >= 24 && bytes[0] === 0x89 && ascii(1, 3) === 'PNG') {
    return { type: 'PNG', width: readUint(bytes, 16, 4), height: readUint(bytes, 20, 4) };
  }
  if (bytes.length >= 10 && ascii(0, 4) === 'GIF8') return { type: 'GIF', width: readUint(bytes, 6, 2, true), height: readUint(bytes, 8, 2, true) };
  if (bytes.length >= 26 && ascii(0, 2) === 'BM') {
    return { type: 'BMP', width: Math.abs(readUint(bytes, 18, 4, true) << 0), height: Math.abs(readUint(bytes, 22, 4, true) << 0) };
  }
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8X') return { type: 'WebP', width: 1 + readUint(bytes, 24, 3, true), height: 1 + readUint(bytes, 27, 3, true) };
    if (chunk === 'VP8L') {
      const bits = readUint(bytes, 21, 4, true);
      return { type: 'WebP', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    return { type: 'WebP', width: readUint(bytes, 26, 2, true) & 0x3fff, height: readUint(bytes, 28, 2, true) & 0x3fff };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    for (let at = 2; at + 9 < bytes.length;) {
      if (bytes[at] !== 0xff) { at++; continue; }
      const marker = bytes[at + 1];
      if (marker === 0xff) { at++; continue; }
      const sof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
      if (sof) return { type: 'JPEG', width: readUint(bytes, at + 7, 2), height: readUint(bytes, at + 5, 2) };
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
      at += 2 + readUint(bytes, at + 2, 2);
    }
    return { type: 'JPEG', width: null, height: null };
  }
  return { type: null, width: null, height: null };
}

function checkSize(lab, name, width, height) {
  if (width === null || height === null) return;
  if (width * height > lab.maxImagePixels) {
    throw new LabError(`${name} is ${width} × ${height} pixels, more than the book's limit of ${lab.maxImagePixels.toLocaleString('en')} pixels: shrink it first.`);
  }
  if (Math.min(width, height) < lab.minImageSide) {
    throw new LabError(`${name} is only ${width} × ${height} pixels: too small to show a cat or a dog; the lab needs at least ${lab.minImageSide} × ${lab.minImageSide}.`);
  }
}

const f32 = Math.fround;

/** tf.round: to the nearest whole number, halves to even. */
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * TensorFlow's scale-and-translate spans (triangle kernel, antialiased), in float32 as its C++
 * kernel computes them: for each output pixel, its first source pixel and normalized weights.
 */
function resizeSpans(inSize, outSize) {
  const invScale = f32(1 / f32(outSize / inSize));
  const kernelScale = Math.max(invScale, 1); // antialias: the kernel widens when shrinking
  const oneOverKernelScale = f32(1 / kernelScale);
  const spans = [];
  for (let x = 0; x < outSize; x++) {
    const sample = f32(f32(x + 0.5) * invScale);
    const start = Math.min(Math.max(Math.ceil(f32(f32(sample - kernelScale) - 0.5)), 0), inSize - 1);
    const end = Math.min(Math.max(Math.floor(f32(f32(sample + kernelScale) - 0.5)), 0), inSize - 1) + 1;
    const weights = [];
    let total = 0;
    for (let source = start; source < end; source++) {
      const position = Math.abs(f32(f32(f32(source + 0.5) - sample) * oneOverKernelScale));
      const weight = position < 1 ? f32(1 - position) : 0;
      weights.push(weight);
      total = f32(total + weight);
    }
    const inverse = f32(1 / total);
    spans.push({ start, weights: weights.map((weight) => (total > 0 ? f32(weight * inverse) : 0)) });
  }
  return spans;
}

/**
 * RGB values (0-255, h × w × 3) resized to `size` as the book's loader does (tf.image.resize with
 * antialias: rows, then columns, accumulated in float32), rounded half to even, in [0, 1].
 */
function resizeRgb(rgb, h, w, [outH, outW]) {
  const out = new Float32Array(outH * outW * 3);
  const finish = (value) => Math.min(255, Math.max(0, roundHalfEven(value))) / 255;
  if (h === outH && w === outW) {
    for (let i = 0; i < out.length; i++) out[i] = finish(rgb[i]);
    return out;
  }
  const rows = resizeSpans(h, outH);
  const cols = resizeSpans(w, outW);
  const middle = new Float32Array(outH * w * 3);
  for (let y = 0; y < outH; y++) {
    const { start, weights } = rows[y];
    for (let k = 0; k < weights.length; k++) {
      const source = (start + k) * w * 3;
      for (let i = 0; i < w * 3; i++) middle[y * w * 3 + i] = f32(middle[y * w * 3 + i] + f32(weights[k] * rgb[source + i]));
    }
  }
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const { start, weights } = cols[x];
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum = f32(sum + f32(weights[k] * middle[(y * w + start + k) * 3 + c]));
        out[(y * outW + x) * 3 + c] = finish(sum);
      }
    }
  }
  return out;
}

/** A model input from RGBA pixels (not premultiplied): composited over white, resized; with notes. */
function photoFromRgba(lab, rgba, width, height, name) {
  const rgb = new Float32Array(width * height * 3);
  let transparent = false;
  let gray = true;
  for (let p = 0; p < width * height; p++) {
    const alpha = f32(rgba[4 * p + 3] / 255); // in float32, as the book's PNG decoder composites
    if (alpha < 1) transparent = true;
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
    if (r !== g || g !== b) gray = false;
    for (let c = 0; c < 3; c++) rgb[3 * p + c] = f32(f32(rgba[4 * p + c] * alpha) + f32(255 * f32(1 - alpha)));
  }
  const notes = [];
  if (transparent) notes.push(`${name} has transparent parts: they are shown over white, as the book's loader does.`);
  if (gray) notes.push(`${name} is a grayscale image: its gray is copied to red, green and blue, as the book's loader does (the models were trained on colour photos).`);
  if (width !== lab.imageSize[1] || height !== lab.imageSize[0]) {
    notes.push(`${name} (${width} × ${height}) was resized to ${lab.imageSize[1]} × ${lab.imageSize[0]}, as the book's loader does.`);
  }
  return { name, width, height, notes, pixels: resizeRgb(rgb, height, width, lab.imageSize) };
}

function rgbaOf(source, width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0);
  return context.getImageData(0, 0, width, height).data;
}

/** A photo from encoded bytes (a file, a drop, a URL): header checked, then decoded by the browser. */
async function photoFromBlob(blob, name) {
  const lab = await settings();
  let head = imageHeader(new Uint8Array(await blob.slice(0, LARGE_FILE_HEAD).arrayBuffer()));
  if (head.type === 'JPEG' && head.width === null && blob.size > LARGE_FILE_HEAD) {
    head = imageHeader(new Uint8Array(await blob.arrayBuffer())); // a JPEG's size comes after its metadata
  }
  if (!head.type) {
    throw new LabError(`${name} is not an image the lab can read: choose a JPEG, PNG, GIF, BMP or WebP photo (the formats the book's loader decodes).`);
  }
  checkSize(lab, name, head.width, head.height);
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (error) {
    throw new LabError(`${name} looks like a ${head.type} file but the browser could not decode it (${error.message || error}).`);
  }
  try {
    checkSize(lab, name, bitmap.width, bitmap.height);
    return photoFromRgba(lab, rgbaOf(bitmap, bitmap.width, bitmap.height), bitmap.width, bitmap.height, name);
  } finally {
    bitmap.close();
  }
}

const photoCache = new Map(); // URL -> photo promise (a few entries)
const photoObjects = new WeakMap(); // HTMLImageElement / ImageData -> photo

/** The model input for an API image: an HTMLImageElement, ImageData, URL string, File/Blob or a photo. */
async function toPhoto(image) {
  const lab = await settings();
  if (image && image.pixels instanceof Float32Array) return image;
  if (typeof image === 'string' || image instanceof URL) {
    const url = new URL(image, window.location.href).href;
    if (!photoCache.has(url)) {
      const name = url.startsWith('data:') ? 'the image' : decodeURIComponent(url.split('/').pop() || url);
      const promise = fetch(url).then((r) => {
        if (!r.ok) throw new LabError(`${url} did not load (HTTP ${r.status}).`);
        return r.blob();
      }).then((blob) => photoFromBlob(blob, name));
      promise.catch(() => photoCache.delete(url));
      photoCache.set(url, promise);
      if (photoCache.size > 24) photoCache.delete(photoCache.keys().next().value);
    }
    return photoCache.get(url);
  }
  if (image instanceof Blob) return photoFromBlob(image, image.name ? `“${image.name}”` : 'the file');
  if (photoObjects.has(image)) return photoObjects.get(image);
  let photo;
  if (typeof ImageData !== 'undefined' && image instanceof ImageData) {
    checkSize(lab, 'The ImageData', image.width, image.height);
    photo = photoFromRgba(lab, image.data, image.width, image.height, 'The ImageData');
  } else if (typeof HTMLImageElement !== 'undefined' && image instanceof HTMLImageElement) {
    if (!image.complete) await image.decode();
    const [width, height] = [image.naturalWidth, image.naturalHeight];
    if (!width || !height) throw new LabError('The image element holds no decoded image.');
    checkSize(lab, 'The image', width, height);
    photo = photoFromRgba(lab, rgbaOf(image, width, height), width, height, 'The image');
  } else {
    throw new LabError('An image must be an HTMLImageElement, ImageData, a URL, or a File.');
  }
  photoObjects.set(image, photo);
  return photo;
}

// ------------------------------------------------------------------------------------------------
// The techniques: each as convlens computes it.

const passCache = new Map(); // `${variant}` -> {photo, out}: one photo's activations per model

/** Every activation layer's output and the probability for one photo (one forward pass, kept). */
async function forwardPass(photo, variant) {
  const [lab, net, tf] = await Promise.all([settings(), loadNet(variant), loadTf()]);
  const cached = passCache.get(variant);
  if (cached && cached.photo === photo) return cached.out;
  const out = tf.tidy(() => {
    const x = tf.tensor4d(photo.pixels, [1, ...lab.imageSize, 3]);
    const keep = { names: lab.activationLayers, out: {} };
    const probability = net.run(x, 0, net.layers.length - 1, { keep });
    return { ...keep.out, __probability: probability };
  });
  if (cached) Object.values(cached.out).forEach((t) => t.dispose());
  passCache.set(variant, { photo, out });
  return out;
}

export async function predict(image, variant = 'dataaug') {
  const photo = await toPhoto(image);
  const out = await forwardPass(photo, variant);
  return (await out.__probability.data())[0];
}

export async function activations(image, variant = 'dataaug', layer) {
  const lab = await settings();
  layer ??= lab.activationLayers[0];
  if (!lab.activationLayers.includes(layer)) {
    throw new LabError(`No activations for layer ${JSON.stringify(layer)}; choose one of ${lab.activationLayers.join(', ')}.`);
  }
  const out = await forwardPass(await toPhoto(image), variant);
  return { shape: out[layer].shape.slice(1), data: await out[layer].data() };
}

/** convlens.gradcam.grad_cam for the predicted class: gradient of ±logit at the last conv layer. */
export async function gradcam(image, variant = 'dataaug') {
  const photo = await toPhoto(image);
  const [lab, net, tf] = await Promise.all([settings(), loadNet(variant), loadTf()]);
  const at = net.index(lab.gradcamLayer);
  const result = tf.tidy(() => {
    const fmap = net.run(tf.tensor4d(photo.pixels, [1, ...lab.imageSize, 3]), 0, at);
    const head = (f) => tf.reshape(net.run(f, at + 1, net.layers.length - 1, { logit: true }), []);
    const { value: logit, grad } = tf.valueAndGrad(head)(fmap);
    const dog = tf.greaterEqual(logit, 0);
    const sign = tf.where(dog, tf.scalar(1), tf.scalar(-1));
    const weights = tf.mean(tf.mul(grad, sign), [1, 2]); // (1, channels)
    const cam = tf.relu(tf.sum(tf.mul(fmap, tf.reshape(weights, [1, 1, 1, -1])), -1));
    return { heat: tf.divNoNan(cam, tf.max(cam)), probability: tf.sigmoid(logit), dog };
  });
  const [data, probability, dog] = await Promise.all([result.heat.data(), result.probability.data(), result.dog.data()]);
  const shape = result.heat.shape.slice(1);
  tf.dispose(result);
  return { shape, data, layer: lab.gradcamLayer, probability: probability[0], classIndex: dog[0] ? 1 : 0 };
}

const pause = () => new Promise((resolve) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = resolve;
  channel.port2.postMessage(null);
});

function outputSide(net, at, size) {
  let side = size;
  for (let i = 0; i <= at; i++) {
    const layer = net.layers[i];
    if (layer.type === 'Conv2D') side = layer.padding === 'valid' ? Math.floor((side - layer.kernelSize[0]) / layer.strides[0]) + 1 : Math.ceil(side / layer.strides[0]);
    if (layer.type === 'MaxPooling2D') side = Math.floor((side - layer.poolSize[0]) / layer.strides[0]) + 1;
  }
  return side;
}

/**
 * convlens.filters.filter_patterns(..., deprocess=False) for one filter: the lecture's gradient
 * ascent (mean activation of the filter; gradient divided by its RMS plus epsilon, times the step)
 * from convlens's start image for (seed, index), or from `start` (size × size × 3 values).
 * `onStep(step, steps, image)` is awaited after every step; `signal` (an AbortSignal) stops it.
 */
export async function filterPattern(variant = 'dataaug', layer, index = 0, options = {}) {
  const [lab, net, tf] = await Promise.all([settings(), loadNet(variant), loadTf()]);
  const { ascent } = lab;
  const at = net.index(layer ?? lab.filterLayers.at(-1), lab.filterLayers);
  const channels = net.layers[at].outputShape.at(-1);
  if (!Number.isInteger(index) || index < 0 || index >= channels) {
    throw new LabError(`Filter ${index} is out of range for layer ${net.layers[at].name}, which has ${channels} filters: choose one in 0..${channels - 1}.`);
  }
  const steps = options.steps ?? ascent.steps;
  if (!Number.isInteger(steps) || steps < 0) throw new LabError(`steps must be a whole number of 0 or more; got ${steps}.`);
  let start = options.start;
  const size = start ? Math.round(Math.sqrt((start.data ?? start).length / 3)) : (options.size ?? ascent.size);
  if (!Number.isInteger(size) || size < 1 || size > (ascent.maxSize ?? 1024) || outputSide(net, at, size) < 1) {
    throw new LabError(`size=${size} does not fit layer ${net.layers[at].name}: its output would be empty, or the image too large.`);
  }
  start = start ? Float32Array.from(start.data ?? start) : (await startImage(index, { seed: options.seed, size })).data;
  let image = tf.tensor4d(start, [1, size, size, 3]);
  const loss = (x) => tf.mean(tf.slice(net.run(x, 0, at), [0, 0, 0, index], [-1, -1, -1, 1]));
  const valueAndGrad = tf.valueAndGrad(loss);
  const [epsilon, stepSize] = [tf.scalar(ascent.gradientEpsilon), tf.scalar(ascent.stepSize)];
  let activation = null;
  try {
    for (let step = 0; step < steps && !options.signal?.aborted; step++) {
      const [next, value] = tf.tidy(() => {
        const { value: current, grad } = valueAndGrad(image);
        const rms = tf.sqrt(tf.mean(tf.square(grad)));
        return [tf.add(image, tf.mul(tf.div(grad, tf.add(rms, epsilon)), stepSize)), current];
      });
      image.dispose();
      image = next;
      activation = (await value.data())[0];
      value.dispose();
      if (options.onStep) await options.onStep(step + 1, steps, { shape: [size, size, 3], tensor: image, activation });
      else if (step % 4 === 3) await pause();
    }
    return { shape: [size, size, 3], data: await image.data(), layer: net.layers[at].name, index, activation };
  } finally {
    image.dispose();
    tf.dispose([epsilon, stepSize]);
  }
}

// ------------------------------------------------------------------------------------------------
// Drawing: the book's one colour scale per layer, matplotlib's colour maps (from lab.json).

function lut(hex) {
  const table = new Uint8Array(hex.length / 2);
  for (let i = 0; i < table.length; i++) table[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return table;
}

/**
 * The top of the book's one colour scale per layer (convlens.plotting.activations.layer_scale):
 * the 99.5th percentile of all the layer's values (numpy's linear rule); 1 when none is above 0.
 */
function layerHigh(data, percentile = 99.5) {
  const sorted = Float32Array.from(data).sort();
  const rank = (percentile / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = sorted[low] + (rank - low) * (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]);
  return high > 0 ? high : 1;
}

/** One channel (stride `step` from `offset`) on the layer's scale 0..high, as 0..255 integers. */
function layerScaled(data, count, offset, step, high) {
  const out = new Uint8Array(count);
  let blank = true;
  for (let i = 0; i < count; i++) {
    const value = data[offset + i * step];
    if (value !== 0) blank = false;
    out[i] = Math.min(255, Math.max(0, Math.round((value / high) * 255)));
  }
  return { values: out, blank };
}

/** Display values (0..255, h × w) through a colour map into an ImageData at (x, y) of `image`. */
function paint(image, values, h, w, table, x0 = 0, y0 = 0) {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = values[y * w + x];
      const p = 4 * ((y0 + y) * image.width + x0 + x);
      image.data[p] = table[3 * v];
      image.data[p + 1] = table[3 * v + 1];
      image.data[p + 2] = table[3 * v + 2];
      image.data[p + 3] = 255;
    }
  }
}

function sizeCanvas(canvas, width, height) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  return canvas.getContext('2d');
}

function drawRgb(canvas, pixels, h, w) {
  const context = sizeCanvas(canvas, w, h);
  const image = context.createImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    for (let c = 0; c < 3; c++) image.data[4 * p + c] = Math.round(pixels[3 * p + c] * 255);
    image.data[4 * p + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** convlens.filters.deprocess_image: centre, scale to std 0.1 around 0.5, clip, times 255 (truncated). */
function deprocess(data, std) {
  let mean = 0;
  for (const v of data) mean += v;
  mean /= data.length;
  let variance = 0;
  for (const v of data) variance += (v - mean) ** 2;
  const scale = std / (Math.sqrt(variance / data.length) + 1e-5);
  return Float32Array.from(data, (v) => Math.floor(Math.min(1, Math.max(0, (v - mean) * scale + 0.5)) * 255) / 255);
}

/** Bilinear resize (half-pixel centres, edges clamped) of a one-channel map, as convlens.gradcam.upsample. */
function upsample(map, h, w, outH, outW) {
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * h) / outH - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), dy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * w) / outW - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), dx = fx - x0;
      const top = map[y0 * w + x0] * (1 - dx) + map[y0 * w + x1] * dx;
      const bottom = map[y1 * w + x0] * (1 - dx) + map[y1 * w + x1] * dx;
      out[y * outW + x] = Math.min(1, Math.max(0, top * (1 - dy) + bottom * dy));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// The panels.

const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
};

function messageBox() {
  const box = el('div', { class: 'convlens-lab-message', role: 'status', 'aria-live': 'polite' });
  box.show = (text, kind = 'note') => {
    box.textContent = text;
    box.dataset.kind = kind;
    box.hidden = !text;
  };
  box.hidden = true;
  return box;
}

function errorText(error) {
  if (error instanceof LabError) return error.message;
  console.error('convlens lab:', error);
  return `Something went wrong in the lab (${error?.message || error}); the page still works: try another photo or setting.`;
}

function variantSelect(lab, chosen, onChange) {
  const select = el('select', { class: 'convlens-lab-variant', 'aria-label': 'Model', onchange: () => onChange(select.value) });
  for (const v of lab.variants) select.append(el('option', { value: v.name, selected: v.name === chosen }, v.title));
  return select;
}

function slider(label, max, value, onInput) {
  const input = el('input', { type: 'range', min: 0, max, value, step: 1, 'aria-label': label });
  const text = el('span', { class: 'convlens-lab-value' });
  input.addEventListener('input', () => onInput(Number(input.value)));
  const row = el('label', { class: 'convlens-lab-slider' }, el('span', {}, label), input, text);
  row.input = input;
  row.text = text;
  row.setMax = (top) => { input.max = top; if (Number(input.value) > top) input.value = top; };
  return row;
}

/** The photo chooser with the three models' predictions; `listeners` hear every new photo. */
function photoChooser(lab) {
  const listeners = [];
  const message = messageBox();
  const preview = el('canvas', { class: 'convlens-lab-preview', width: lab.imageSize[1], height: lab.imageSize[0], 'aria-label': 'The photo as the models see it' });
  const bars = el('div', { class: 'convlens-lab-predictions' });
  const file = el('input', { type: 'file', accept: 'image/*', class: 'convlens-lab-file', 'aria-label': 'Choose a photo' });
  const root = el('div', { class: 'convlens-lab-chooser' });
  let current = null;
  let serial = 0;

  async function choose(source, label) {
    const mine = ++serial;
    message.show(`Reading ${label}…`, 'busy');
    try {
      const photo = await toPhoto(source);
      if (mine !== serial) return;
      current = photo;
      drawRgb(preview, photo.pixels, ...lab.imageSize);
      root.dataset.photo = photo.name;
      message.show(photo.notes.join(' '), 'note');
      await showPredictions(photo, mine);
      for (const listener of listeners) listener(photo);
    } catch (error) {
      if (mine === serial) message.show(errorText(error) + (current ? ' The previous photo is kept.' : ''), 'error');
    }
  }

  async function showPredictions(photo, mine) {
    bars.replaceChildren(el('p', {}, 'Loading the models (about 14 MB each, once)…'));
    const rows = [];
    for (const v of lab.variants) {
      const p = await predict(photo, v.name);
      if (mine !== serial) return;
      rows.push(el('div', { class: 'convlens-lab-bar', 'data-variant': v.name, 'data-probability': p.toFixed(6) },
        el('span', { class: 'convlens-lab-bar-name' }, v.title),
        el('span', { class: 'convlens-lab-bar-track' }, el('span', { class: 'convlens-lab-bar-fill', style: `width:${(100 * p).toFixed(1)}%` })),
        el('span', { class: 'convlens-lab-bar-text' }, `P(dog) = ${p.toFixed(3)}: ${p >= 0.5 ? 'dog' : 'cat'}`)));
    }
    bars.replaceChildren(...rows);
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
  const samples = el('div', { class: 'convlens-lab-samples' });
  for (const sample of lab.samples) {
    samples.append(el('button', { type: 'button', class: 'convlens-lab-sample', title: `A validation photo (${sample.source})`, onclick: () => choose(new URL(sample.file, BASE).href, `the sample ${sample.file}`) },
      el('img', { src: new URL(sample.file, BASE).href, alt: `sample: ${sample.label}`, width: 56, height: 56 })));
  }
  const controls = el('div', { class: 'convlens-lab-controls' },
    el('label', { class: 'convlens-lab-button' }, 'Choose a photo…', file),
    cameraButton((blob) => choose(blob, 'the camera photo'), message),
    el('span', { class: 'convlens-lab-hint' }, lab.samples.length ? 'or drop one here, or try a sample:' : 'or drop one here.'),
    samples);
  root.append(controls, message, el('div', { class: 'convlens-lab-photo-row' }, preview, bars));
  return { root, onPhoto: (listener) => { listeners.push(listener); if (current) listener(current); }, choose, message };
}

function cameraButton(onBlob, message) {
  if (!navigator.mediaDevices?.getUserMedia) return null;
  const video = el('video', { class: 'convlens-lab-video', playsinline: true, muted: true, hidden: true });
  let stream = null;
  const stop = () => { stream?.getTracks().forEach((track) => track.stop()); stream = null; video.hidden = true; take.hidden = true; };
  const take = el('button', { type: 'button', class: 'convlens-lab-button', hidden: true, onclick: () => {
    const canvas = el('canvas', { width: video.videoWidth, height: video.videoHeight });
    canvas.getContext('2d').drawImage(video, 0, 0);
    stop();
    canvas.toBlob((blob) => onBlob(blob), 'image/png');
  } }, 'Take the photo');
  const start = el('button', { type: 'button', class: 'convlens-lab-button', onclick: async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true });
      video.srcObject = stream;
      video.hidden = false;
      take.hidden = false;
      await video.play();
    } catch (error) {
      stop();
      message.show(`No camera photo: ${error.message || error}.`, 'error');
    }
  } }, 'Camera');
  return el('span', { class: 'convlens-lab-camera' }, start, take, video);
}

function activationsPanel(lab, root, photos, options) {
  let variant = options.variant || 'dataaug';
  let layerIndex = Math.max(0, lab.activationLayers.indexOf(options.layer));
  let channel = Number(options.index || 0);
  let photo = null;
  const viridis = lut(lab.colormaps.viridis);
  const big = el('canvas', { class: 'convlens-lab-channel', 'aria-label': 'The chosen channel (viridis)' });
  const grid = el('canvas', { class: 'convlens-lab-grid', 'aria-label': "The layer's channels; click one to choose it" });
  const caption = el('p', { class: 'convlens-lab-caption' }, 'Choose a photo to see what each layer makes of it.');
  const message = messageBox();
  const layerSlider = slider('Layer', lab.activationLayers.length - 1, layerIndex, (i) => { layerIndex = i; draw(); });
  const channelSlider = slider('Channel', 0, channel, (c) => { channel = c; draw(false); });
  let shape = null;
  let data = null;
  let high = 1;

  async function draw(wholeLayer = true) {
    if (!photo) return;
    const layer = lab.activationLayers[layerIndex];
    layerSlider.text.textContent = layer;
    try {
      if (wholeLayer || !data) {
        ({ shape, data } = await activations(photo, variant, layer));
        high = layerHigh(data); // one scale per layer: computed once per layer, not per channel
      }
      const [h, w, c] = shape;
      channelSlider.setMax(c - 1);
      channel = Math.min(channel, c - 1);
      channelSlider.text.textContent = `${channel} of ${c}`;
      const context = sizeCanvas(big, w, h);
      const image = context.createImageData(w, h);
      const one = layerScaled(data, h * w, channel, c, high);
      paint(image, one.values, h, w, viridis);
      context.putImageData(image, 0, 0);
      if (wholeLayer) drawGrid(h, w, c);
      caption.textContent = `${layer}: ${h} × ${w} × ${c}. Channel ${channel}${one.blank ? ' is blank (zero everywhere)' : ''}, shown in viridis on one scale for the whole layer: 0 is dark purple in every channel and ${high.toPrecision(3)} (the 99.5th percentile of the layer's values for this photo) is yellow.`;
      root.dataset.drawn = `${variant}/${layer}/${channel}`;
      message.show('');
    } catch (error) {
      message.show(errorText(error), 'error');
    }
  }

  function drawGrid(h, w, c) {
    const columns = Math.ceil(Math.sqrt(c * 2));
    const rows = Math.ceil(c / columns);
    const gap = 1;
    const context = sizeCanvas(grid, columns * (w + gap) - gap, rows * (h + gap) - gap);
    const image = context.createImageData(grid.width, grid.height);
    image.data.fill(255);
    for (let k = 0; k < c; k++) paint(image, layerScaled(data, h * w, k, c, high).values, h, w, viridis, (k % columns) * (w + gap), Math.floor(k / columns) * (h + gap));
    context.putImageData(image, 0, 0);
    grid.onclick = (event) => {
      const box = grid.getBoundingClientRect();
      const x = Math.floor(((event.clientX - box.left) / box.width) * grid.width / (w + gap));
      const y = Math.floor(((event.clientY - box.top) / box.height) * grid.height / (h + gap));
      const k = y * columns + x;
      if (k < c) { channel = k; channelSlider.input.value = k; draw(false); }
    };
  }

  const controls = el('div', { class: 'convlens-lab-controls' }, variantSelect(lab, variant, (v) => { variant = v; draw(); }), layerSlider, channelSlider);
  root.append(el('h4', {}, 'Activations'), controls, message, el('div', { class: 'convlens-lab-figures' }, big, grid), caption);
  photos.onPhoto((p) => { photo = p; draw(); });
}

function filtersPanel(lab, root, photos, options) {
  let variant = options.variant || 'dataaug';
  let layerIndex = lab.filterLayers.indexOf(options.layer);
  if (layerIndex < 0) layerIndex = lab.filterLayers.indexOf(lab.gradcamLayer);
  let filter = Number(options.index || 0);
  let running = null;
  const canvas = el('canvas', { class: 'convlens-lab-pattern', width: lab.ascent.size, height: lab.ascent.size, 'aria-label': 'The filter pattern' });
  const progress = el('progress', { max: lab.ascent.steps, value: 0, 'aria-label': 'Gradient-ascent steps done' });
  const caption = el('p', { class: 'convlens-lab-caption' }, `Press “Run” for the lecture's ${lab.ascent.steps} steps of gradient ascent from gray noise (the book's start image for this filter).`);
  const message = messageBox();
  const channelsOf = () => (lab.filterChannels || {})[lab.filterLayers[layerIndex]] ?? 128;
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
      const result = await filterPattern(variant, layer, filter, {
        signal: running.signal,
        onStep: async (step, steps, { shape, tensor, activation }) => {
          const [size] = shape;
          drawRgb(canvas, deprocess(await tensor.data(), lab.ascent.deprocessStd), size, size);
          progress.value = step;
          root.dataset.drawn = String(step);
          message.show('');
          caption.textContent = `${layer}, filter ${filter}: step ${step} of ${steps}, mean activation ${activation.toFixed(4)}${activation === 0 ? ' (the filter is silent on this image: no gradient to climb)' : ''}.`;
          await pause();
        },
      });
      if (running.signal.aborted) caption.textContent += ' Stopped.';
      root.dataset.finished = String(result.data.length > 0);
    } catch (error) {
      message.show(errorText(error), 'error');
    } finally {
      running = null;
      run.textContent = 'Run';
    }
  });
  const controls = el('div', { class: 'convlens-lab-controls' }, variantSelect(lab, variant, (v) => { variant = v; }), layerSlider, filterSlider, run, progress);
  root.append(el('h4', {}, 'Filter patterns'), controls, message, el('div', { class: 'convlens-lab-figures' }, canvas), caption);
}

function gradcamPanel(lab, root, photos) {
  const jet = lut(lab.colormaps.jet);
  const alpha = lab.overlayAlpha;
  const [H, W] = lab.imageSize;
  const columns = lab.variants.map((v) => {
    const heat = el('canvas', { class: 'convlens-lab-heat', width: W, height: H, 'aria-label': `Grad-CAM heatmap, ${v.title}` });
    const overlay = el('canvas', { class: 'convlens-lab-overlay', width: W, height: H, 'aria-label': `Grad-CAM over the photo, ${v.title}` });
    const title = el('p', { class: 'convlens-lab-caption' }, v.title);
    return { variant: v, heat, overlay, title, root: el('figure', { class: 'convlens-lab-cam', 'data-variant': v.name }, title, heat, overlay) };
  });
  const message = messageBox();
  const caption = el('p', { class: 'convlens-lab-caption' }, `Grad-CAM at ${lab.gradcamLayer} for each model's predicted class: the heatmap alone (jet) and over the photo (opacity ${alpha}).`);
  root.append(el('h4', {}, 'Grad-CAM'), message, el('div', { class: 'convlens-lab-cams' }, ...columns.map((c) => c.root)), caption);
  photos.onPhoto(async (photo) => {
    try {
      for (const column of columns) {
        const cam = await gradcam(photo, column.variant.name);
        const big = upsample(cam.data, cam.shape[0], cam.shape[1], H, W);
        const heatImage = sizeCanvas(column.heat, W, H).createImageData(W, H);
        const overlayImage = sizeCanvas(column.overlay, W, H).createImageData(W, H);
        for (let p = 0; p < H * W; p++) {
          const v = Math.round(big[p] * 255);
          for (let c = 0; c < 3; c++) {
            heatImage.data[4 * p + c] = jet[3 * v + c];
            overlayImage.data[4 * p + c] = Math.round((1 - alpha) * photo.pixels[3 * p + c] * 255 + alpha * jet[3 * v + c]);
          }
          heatImage.data[4 * p + 3] = overlayImage.data[4 * p + 3] = 255;
        }
        column.heat.getContext('2d').putImageData(heatImage, 0, 0);
        column.overlay.getContext('2d').putImageData(overlayImage, 0, 0);
        column.title.textContent = `${column.variant.title}: P(dog) = ${cam.probability.toFixed(3)}, explains “${cam.classIndex ? 'dog' : 'cat'}”`;
        column.root.dataset.drawn = 'true';
      }
      message.show('');
    } catch (error) {
      message.show(errorText(error), 'error');
    }
  });
}

const PANELS = { photo: null, activations: activationsPanel, filters: filtersPanel, gradcam: gradcamPanel };

async function buildPanels() {
  const roots = Array.from(document.querySelectorAll('.convlens-lab[data-panel]'));
  if (!roots.length) return;
  if (!document.querySelector('link[data-convlens-lab]')) {
    document.head.append(el('link', { rel: 'stylesheet', href: new URL('convlens-lab.css', BASE).href, 'data-convlens-lab': true }));
  }
  let lab;
  try {
    lab = await settings();
  } catch (error) {
    roots.forEach((root) => root.replaceChildren(el('p', { class: 'convlens-lab-message', 'data-kind': 'error' }, errorText(error))));
    return;
  }
  const shared = roots.find((root) => root.dataset.panel === 'photo');
  let sharedChooser = null;
  for (const root of roots) {
    const kind = root.dataset.panel;
    root.replaceChildren();
    if (!(kind in PANELS)) {
      root.append(el('p', { class: 'convlens-lab-message', 'data-kind': 'error' }, `Unknown lab panel ${JSON.stringify(kind)}; choose one of ${Object.keys(PANELS).join(', ')}.`));
      continue;
    }
    let photos = null;
    if (kind === 'photo' || (kind !== 'filters' && !shared)) {
      const chooser = photoChooser(lab);
      root.append(chooser.root);
      photos = chooser;
      if (kind === 'photo') sharedChooser = chooser;
    }
    if (kind !== 'photo') {
      const panel = el('div', { class: 'convlens-lab-panel' });
      root.append(panel);
      PANELS[kind](lab, panel, photos || { onPhoto: (listener) => deferred.push(listener) }, { ...root.dataset });
    }
    root.dataset.ready = 'true';
  }
  for (const listener of deferred) sharedChooser?.onPhoto(listener);
}

const deferred = [];

// ------------------------------------------------------------------------------------------------
// The API.

const api = {
  ready: null,
  variants: [],
  settings: null,
  get backend() { return tfLib ? tfLib.getBackend() : null; },
  /** Loads TensorFlow.js and the back-end (done on first use anyway); returns the back-end's name. */
  async init() { return (await loadTf()).getBackend(); },
  loadModel: async (variant) => { await loadNet(variant); return variant; },
  predict,
  activations,
  gradcam,
  filterPattern,
  startImage,
  /** The model input of an image: {shape, data} (150 × 150 × 3 in [0, 1]) and notes, as the lab reads it. */
  async input(image) {
    const photo = await toPhoto(image);
    return { shape: [...(await settings()).imageSize, 3], data: photo.pixels, notes: photo.notes };
  },
  imageHeader,
};

api.ready = settings().then((lab) => {
  api.variants = lab.variants.map((v) => v.name);
  api.settings = lab;
  return api;
});
api.ready.catch(() => {});
window.convlensLab = api;

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', buildPanels);
else buildPanels();

export default api;
