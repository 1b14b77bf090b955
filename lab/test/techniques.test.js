import assert from 'node:assert/strict';
import test from 'node:test';
import { Net } from '../net.js';
import { deprocess, filterPattern, forwardPass, gradcam, startImage } from '../techniques.js';
import { maxDiff, tf, tinyNet } from './helpers.js';

const ASCENT = { steps: 3, stepSize: 0.1, gradientEpsilon: 1e-5, noiseAmplitude: 0.08, noiseOffset: 0.5, size: 6, maxSize: 64, deprocessStd: 0.1, seed: 0 };
const LAB = { imageSize: [6, 6], activationLayers: ['conv', 'pool'], gradcamLayer: 'conv', filterLayers: ['conv'], ascent: ASCENT };
const net = () => { const { spec, weights } = tinyNet(); return new Net(tf, spec, weights); };

test('startImage: gray plus uniform noise, the same for the same (seed, filter), another for another filter', () => {
  const a = startImage(tf, ASCENT, 3).dataSync();
  assert.equal(a.length, 6 * 6 * 3);
  assert.ok(a.every((v) => v >= 0.5 && v < 0.58));
  assert.deepEqual(a, startImage(tf, ASCENT, 3, { seed: 0 }).dataSync());
  assert.notDeepEqual(a, startImage(tf, ASCENT, 4).dataSync());
  assert.notDeepEqual(a, startImage(tf, ASCENT, 3, { seed: 1 }).dataSync());
  assert.throws(() => startImage(tf, ASCENT, -1), /index must be/);
});

test('deprocess is convlens.filters.deprocess_image (tf.moments): std 0.1 around 0.5, clipped, in 1/255 steps', () => {
  const values = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i) * 3);
  const shown = deprocess(tf, tf.tensor(values), 0.1).dataSync();
  const mean = values.reduce((a, b) => a + b) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  const expected = values.map((v) => Math.floor(Math.min(1, Math.max(0, ((v - mean) * 0.1) / (std + 1e-5) + 0.5)) * 255) / 255);
  assert.ok(maxDiff(shown, expected) <= 1 / 255 + 1e-6);
});

test('forwardPass keeps the activation layers and P(dog)', () => {
  const out = forwardPass(tf, LAB, net(), { pixels: new Float32Array(6 * 6 * 3).fill(0.5) });
  assert.deepEqual(Object.keys(out.layers), ['conv', 'pool']);
  const p = out.probability.dataSync()[0];
  assert.ok(p > 0 && p < 1);
});

test('gradcam gives a heatmap in [0, 1] with its top at 1, for the predicted class', async () => {
  const pixels = tf.randomUniform([6 * 6 * 3], 0, 1, 'float32', 9).dataSync();
  const cam = await gradcam(tf, LAB, net(), { pixels });
  assert.deepEqual(cam.shape, [4, 4]);
  assert.ok(cam.data.every((v) => v >= 0 && v <= 1));
  assert.ok(Math.max(...cam.data) === 1 || Math.max(...cam.data) === 0);
  assert.equal(cam.classIndex, cam.probability >= 0.5 ? 1 : 0);
});

test('filterPattern climbs from the given start, hears every step, and stops when aborted', async () => {
  const start = startImage(tf, ASCENT, 1).dataSync();
  const none = await filterPattern(tf, LAB, net(), 'conv', 1, { steps: 0, start });
  assert.deepEqual(none.data, start);
  const heard = [];
  const signal = { aborted: false };
  const result = await filterPattern(tf, LAB, net(), 'conv', 1, {
    start, signal, onStep: (step) => { heard.push(step); if (step === 2) signal.aborted = true; },
  });
  assert.deepEqual(heard, [1, 2]);
  assert.equal(result.shape[0], 6);
  await assert.rejects(filterPattern(tf, LAB, net(), 'conv', 7), /out of range/);
  await assert.rejects(filterPattern(tf, LAB, net(), 'conv', 0, { size: 2 }), /does not fit/);
  await assert.rejects(filterPattern(tf, LAB, net(), 'pool', 0), /choose one of conv/);
});
