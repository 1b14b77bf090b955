/**
 * The techniques, each as convlens computes it, on a `Net` (net.js) and a photo's model input
 * (`photo.pixels`, 150 × 150 × 3 in [0, 1]); `tf` and `lab` (lab.json) are passed in.
 */
import { LabError } from './errors.js';

/** Every activation layer's output and P(dog) for one photo: one forward pass (tensors, kept). */
export function forwardPass(tf, lab, net, photo) {
  return tf.tidy(() => {
    const x = tf.tensor4d(photo.pixels, [1, ...lab.imageSize, 3]);
    const keep = { names: lab.activationLayers, out: {} };
    const probability = net.run(x, 0, net.layers.length - 1, { keep });
    return { layers: keep.out, probability };
  });
}

/** convlens.gradcam.grad_cam for the predicted class: gradient of ±logit at the last conv layer. */
export async function gradcam(tf, lab, net, photo) {
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

/**
 * A start image for the ascent as convlens.filters.start_image makes it: gray plus uniform noise
 * (noise × amplitude + offset), (size, size, 3). The noise is TensorFlow.js's seeded uniform
 * generator for (seed, index): the same image for the same filter every time, not numpy's numbers
 * (pass convlens's own image as `start` to filterPattern for that).
 */
export function startImage(tf, ascent, index, { seed = ascent.seed, size = ascent.size } = {}) {
  for (const [name, value] of [['index', index], ['seed', seed], ['size', size]]) {
    if (!Number.isSafeInteger(value) || value < (name === 'size' ? 1 : 0)) {
      throw new LabError(`${name} must be a whole number of ${name === 'size' ? 1 : 0} or more; got ${value}.`);
    }
  }
  const low = ascent.noiseOffset;
  return tf.tidy(() => tf.randomUniform([size, size, 3], low, low + ascent.noiseAmplitude, 'float32', `${seed}/${index}`));
}

/** convlens.filters.deprocess_image, in [0, 1]: centre, scale to std `std` around 0.5, clip, truncate to 1/255 steps. */
export function deprocess(tf, image, std) {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(image);
    const scaled = tf.add(tf.mul(tf.sub(image, mean), tf.div(std, tf.add(tf.sqrt(variance), 1e-5))), 0.5);
    return tf.div(tf.floor(tf.mul(tf.clipByValue(scaled, 0, 1), 255)), 255);
  });
}

/**
 * convlens.filters.filter_patterns(..., deprocess=False) for one filter: the lecture's gradient
 * ascent (mean activation of the filter; gradient divided by its RMS plus epsilon, times the step)
 * from `options.start` (size × size × 3 values) or startImage(index, options).
 * `onStep(step, steps, {shape, tensor, activation})` is awaited after every step; the ascent
 * stops when `options.signal` (an AbortSignal-like `{aborted}`) is aborted.
 */
export async function filterPattern(tf, lab, net, layer, index, options = {}) {
  const { ascent } = lab;
  const at = net.index(layer ?? lab.filterLayers.at(-1), lab.filterLayers);
  const channels = net.layers[at].outputShape.at(-1);
  if (!Number.isInteger(index) || index < 0 || index >= channels) {
    throw new LabError(`Filter ${index} is out of range for layer ${net.layers[at].name}, which has ${channels} filters: choose one in 0..${channels - 1}.`);
  }
  const steps = options.steps ?? ascent.steps;
  if (!Number.isInteger(steps) || steps < 0) throw new LabError(`steps must be a whole number of 0 or more; got ${steps}.`);
  const start = options.start ? Float32Array.from(options.start.data ?? options.start) : null;
  const size = start ? Math.round(Math.sqrt(start.length / 3)) : (options.size ?? ascent.size);
  if (!Number.isInteger(size) || size < 1 || size > ascent.maxSize || net.outputSide(at, size) < 1) {
    throw new LabError(`size=${size} does not fit layer ${net.layers[at].name}: its output would be empty, or the image larger than ${ascent.maxSize} px.`);
  }
  let image = start ? tf.tensor4d(start, [1, size, size, 3])
    : tf.tidy(() => tf.expandDims(startImage(tf, ascent, index, { seed: options.seed, size })));
  const loss = (x) => tf.mean(tf.slice(net.run(x, 0, at), [0, 0, 0, index], [-1, -1, -1, 1]));
  const valueAndGrad = tf.valueAndGrad(loss);
  let activation = null;
  try {
    for (let step = 0; step < steps && !options.signal?.aborted; step++) {
      const [next, value] = tf.tidy(() => {
        const { value: current, grad } = valueAndGrad(image);
        const rms = tf.sqrt(tf.mean(tf.square(grad)));
        return [tf.add(image, tf.mul(tf.div(grad, tf.add(rms, ascent.gradientEpsilon)), ascent.stepSize)), current];
      });
      image.dispose();
      image = next;
      activation = (await value.data())[0];
      value.dispose();
      if (options.onStep) await options.onStep(step + 1, steps, { shape: [size, size, 3], tensor: image, activation });
    }
    return { shape: [size, size, 3], data: await image.data(), layer: net.layers[at].name, index, activation };
  } finally {
    image.dispose();
  }
}
