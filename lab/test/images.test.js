import assert from 'node:assert/strict';
import test from 'node:test';
import { checkSize, gifFrames, imageHeader, photoFromRgba, resizeRgb, resizeWeights } from '../images.js';
import { LabError } from '../errors.js';
import { maxDiff, tf } from './helpers.js';

const LAB = { imageSize: [4, 4], maxImagePixels: 1000, minImageSide: 2 };

test('imageHeader reads PNG and GIF sizes, and knows a non-image', () => {
  const png = new Uint8Array(24);
  png.set([0x89, 0x50, 0x4e, 0x47], 0);
  png.set([0, 0, 1, 44, 0, 0, 0, 200], 16); // 300 x 200
  assert.deepEqual(imageHeader(png), { type: 'PNG', width: 300, height: 200 });
  const gif = Uint8Array.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 37, 0, 23, 0]);
  assert.deepEqual(imageHeader(gif), { type: 'GIF', width: 37, height: 23 });
  assert.equal(imageHeader(Uint8Array.from([1, 2, 3])).type, null);
});

/** A GIF of `frames` 1 x 1 frames, with a global colour table and a loop extension. */
function gif(frames) {
  const head = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  const loop = [0x21, 0xff, 11, ...Array.from('NETSCAPE2.0', (c) => c.charCodeAt(0)), 3, 1, 0, 0, 0];
  const frame = [0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4c, 0x01, 0];
  return Uint8Array.from([...head, ...loop, ...Array(frames).fill(frame).flat(), 0x3b]);
}

test('gifFrames counts an animated GIF\'s frames', () => {
  assert.equal(gifFrames(gif(1)), 1);
  assert.equal(gifFrames(gif(3)), 3);
});

test('checkSize refuses huge and tiny images by name', () => {
  assert.throws(() => checkSize(LAB, 'big.png', 100, 100), (e) => e instanceof LabError && /100 × 100/.test(e.message));
  assert.throws(() => checkSize(LAB, 'dot.png', 1, 1), /too small/);
  checkSize(LAB, 'fine.png', 20, 20);
  checkSize(LAB, 'unknown.jpg', null, null);
});

test('resizeWeights: rows sum to 1, the identity at the same size, the triangle kernel when shrinking', () => {
  const weights = resizeWeights(7, 3);
  for (let row = 0; row < 3; row++) assert.ok(Math.abs(weights.slice(row * 7, row * 7 + 7).reduce((a, b) => a + b) - 1) < 1e-6);
  assert.deepEqual(Array.from(resizeWeights(3, 3)), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(resizeWeights(4, 2)).map((w) => +w.toFixed(4)), [0.4286, 0.4286, 0.1429, 0, 0, 0.1429, 0.4286, 0.4286]);
});

test('resizeRgb enlarges as tf.image.resizeBilinear does (half-pixel centres), within rounding', () => {
  const [h, w] = [5, 6];
  const rgb = Float32Array.from({ length: h * w * 3 }, (_, i) => (i * 37) % 256);
  const ours = resizeRgb(tf, rgb, h, w, [9, 11]);
  const library = tf.tidy(() => tf.div(tf.round(tf.image.resizeBilinear(tf.tensor3d(rgb, [h, w, 3]), [9, 11], false, true)), 255).dataSync());
  assert.ok(maxDiff(ours, library) <= 1 / 255 + 1e-7);
});

test('resizeRgb keeps a same-size photo and averages when shrinking (antialiased)', () => {
  const rgb = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 10);
  assert.deepEqual(Array.from(resizeRgb(tf, rgb, 2, 2, [2, 2])), Array.from(rgb, (v) => Math.fround(v / 255)));
  const stripes = Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => (Math.floor(i / 3) % 2 ? 200 : 0)); // columns 0, 200, 0, 200
  const shrunk = resizeRgb(tf, stripes, 4, 4, [2, 2]);
  assert.ok(Array.from(shrunk).every((v) => Math.abs(v * 255 - 100) <= 25), Array.from(shrunk, (v) => v * 255).join(','));
});

test('photoFromRgba composites over white, copies gray and says so', () => {
  const rgba = new Uint8ClampedArray(4 * 4 * 4).fill(100);
  for (let p = 0; p < 16; p++) [rgba[4 * p], rgba[4 * p + 3]] = [120, p === 0 ? 0 : 255];
  const photo = photoFromRgba(tf, LAB, rgba, 4, 4, 'see-through.png');
  assert.equal(photo.pixels[0], 1); // transparent: white
  assert.equal(photo.pixels[3], Math.fround(120 / 255));
  assert.equal(photo.notes.length, 1);
  assert.match(photo.notes[0], /transparent/);
  const gray = photoFromRgba(tf, LAB, new Uint8ClampedArray(8 * 8 * 4).fill(255), 8, 8, 'gray.png', ['first']);
  assert.deepEqual(gray.notes.map((n) => n.split(' ')[0]), ['first', 'gray.png', 'gray.png']);
  assert.match(gray.notes[1], /grayscale/);
  assert.match(gray.notes[2], /8 × 8\) was resized to 4 × 4/);
});
