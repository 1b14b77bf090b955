/**
 * The network, rebuilt from the layer list that convlens.tfjs reads from Keras (`convlensLayers`
 * of model.json), with TensorFlow.js ops; `tf` is passed in (the worker's, or node's in the tests).
 *
 * Every layer has a custom gradient, TensorFlow's rule on every back-end. TensorFlow gives a
 * max-pool window's gradient to the window's first maximum (row-major), also when the window is
 * all zeros (common after a ReLU); TensorFlow.js's WASM kernel drops it there, which moves
 * Grad-CAM by up to 1.0 (measured once, on the parity test's 20 photos). Convolutions
 * propagate back as a forward convolution with the flipped kernel (fast on every back-end).
 */
import { LabError } from './errors.js';

/** The gradient through a layer's activation, from its output `y`: ReLU or none (the only ones used in a gradient). */
export function activationGrad(tf, dy, y, activation) {
  if (activation === 'relu') return tf.mul(dy, tf.step(y)); // y > 0 exactly where the input was > 0
  if (activation === 'linear') return dy;
  throw new LabError(`The lab has no gradient for activation ${activation}.`);
}

function convLayer(tf, spec, kernel, bias) {
  const [kh, kw] = spec.kernelSize;
  const { strides, padding } = spec;
  if (strides[0] !== 1 || strides[1] !== 1 || (padding !== 'valid' && (kh % 2 === 0 || kw % 2 === 0))) {
    throw new LabError(`Layer ${spec.name}: the lab takes convolutions of stride 1 ('valid', or 'same' with odd kernels).`);
  }
  const flipped = tf.keep(tf.tidy(() => tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])));
  const inputGrad = (dz) => {
    const padded = padding === 'valid' ? tf.pad(dz, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]) : dz;
    return tf.conv2d(padded, flipped, 1, padding);
  };
  const ops = {};
  const op = (activation) => {
    ops[activation] ??= tf.customGrad((x, save) => {
      const y = tf.fused.conv2d({ x, filter: kernel, strides, pad: padding, bias: bias ?? undefined, activation });
      save([y]);
      return { value: y, gradFunc: (dy, [saved]) => inputGrad(activationGrad(tf, dy, saved, activation)) };
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
 * TensorFlow's max-pool gradient for non-overlapping windows `[ph, pw]`, with tensor ops (no
 * read-back): all of a window's gradient to its first maximum in row-major order.
 */
export function maxPoolGrad(tf, x, y, dy, [ph, pw]) {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  const whole = oh * ph === h && ow * pw === w;
  const windows = tf.reshape(whole ? x : tf.slice(x, 0, [n, oh * ph, ow * pw, c]), [n * oh, ph, ow, pw * c]);
  const [top, dTop] = [tf.reshape(y, [n * oh, 1, ow, c]), tf.reshape(dy, [n * oh, 1, ow, c])];
  let free = null; // 1 where no earlier element of the window took the gradient
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
  return whole ? dx : tf.pad(dx, [[0, 0], [0, h - oh * ph], [0, w - ow * pw], [0, 0]]);
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

/** One trained model: its layers from `spec.convlensLayers` and the weight tensors by name. */
export class Net {
  constructor(tf, spec, weights) {
    this.variant = spec.variant;
    this.input = spec.convlensLayers[0];
    this.layers = spec.convlensLayers.slice(1).map((layer) => makeLayer(tf, layer, weights));
  }

  /** The index of layer `name` (among `among` when given), or an error naming the choices. */
  index(name, among) {
    const i = this.layers.findIndex((layer) => layer.name === name);
    if (i < 0 || (among && !among.includes(name))) {
      const names = among || this.layers.map((l) => l.name);
      throw new LabError(`No layer ${JSON.stringify(name)} to use here; choose one of ${names.join(', ')}.`);
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

  /** The side of layer `at`'s output for a square input of `size` pixels (0: empty). */
  outputSide(at, size) {
    let side = size;
    for (const layer of this.layers.slice(0, at + 1)) {
      if (layer.type === 'Conv2D') side = layer.padding === 'valid' ? side - layer.kernelSize[0] + 1 : side;
      if (layer.type === 'MaxPooling2D') side = Math.floor((side - layer.poolSize[0]) / layer.strides[0]) + 1;
    }
    return Math.max(0, side);
  }
}
