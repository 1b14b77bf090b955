import assert from 'node:assert/strict';
import test from 'node:test';
import { activeChannel, camImages, colourBar, layerHigh, layerScaled, lut, paint, upsample } from '../colors.js';

test('lut reads lab.json\'s hexadecimal colour maps', () => {
  assert.deepEqual(Array.from(lut('00ff7f')), [0, 255, 127]);
});

test('layerHigh is numpy\'s linear percentile, and 1 when nothing is above 0', () => {
  const data = Float32Array.from({ length: 201 }, (_, i) => i); // numpy.percentile(range(201), 99.5) == 199
  assert.equal(layerHigh(data, 99.5), 199);
  assert.equal(layerHigh(Float32Array.from([0, 1, 2, 3]), 50), 1.5);
  assert.equal(layerHigh(new Float32Array(10), 99.5), 1);
});

test('layerScaled puts one channel of an interleaved layer on 0..255 and says when it is blank', () => {
  const data = Float32Array.from([0, 2, 1, 0, 4, 0]); // 3 pixels x 2 channels
  assert.deepEqual(Array.from(layerScaled(data, 3, 1, 2, 2).values), [255, 0, 0]);
  assert.deepEqual(layerScaled(data, 3, 0, 2, 4), { values: Uint8Array.from([0, 64, 255]), blank: false });
  assert.equal(layerScaled(new Float32Array(6), 3, 1, 2, 1).blank, true);
});

test('activeChannel skips the channels that are zero everywhere', () => {
  const data = Float32Array.from([0, 0, 3, 0, 0, 1]); // 2 pixels x 3 channels: channel 2 fires
  assert.equal(activeChannel(data, 3), 2);
  assert.equal(activeChannel(data, 3, 2), 2);
  assert.equal(activeChannel(new Float32Array(6), 3, 1), 1);
});

test('paint and colourBar write RGBA through the table', () => {
  const table = new Uint8Array(768).map((_, i) => Math.floor(i / 3)); // gray ramp
  const image = { width: 3, height: 2, data: new Uint8ClampedArray(24) };
  paint(image, Uint8Array.from([10, 20]), 1, 2, table, 1, 1);
  assert.deepEqual(Array.from(image.data.slice(16, 24)), [10, 10, 10, 255, 20, 20, 20, 255]);
  const bar = { width: 256, height: 2, data: new Uint8ClampedArray(256 * 2 * 4) };
  colourBar(bar, table);
  assert.equal(bar.data[0], 0);
  assert.equal(bar.data[4 * 255], 255);
  assert.equal(bar.data[4 * 256 + 4 * 128], 128);
});

test('upsample is bilinear with half-pixel centres and clamped edges', () => {
  assert.deepEqual(Array.from(upsample(Float32Array.from([0, 1]), 1, 2, 1, 4)), [0, 0.25, 0.75, 1]);
  const same = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(Array.from(upsample(same, 2, 2, 2, 2)), Array.from(same));
});

test('camImages draws the heatmap alone and over the photo', () => {
  const table = new Uint8Array(768).map((_, i) => (i % 3 === 0 ? Math.floor(i / 3) : 0));
  const [heat, over] = [0, 1].map(() => ({ width: 1, height: 1, data: new Uint8ClampedArray(4) }));
  camImages(Float32Array.from([1]), Float32Array.from([0, 0, 1]), table, 0.4, heat, over);
  assert.deepEqual(Array.from(heat.data), [255, 0, 0, 255]);
  assert.deepEqual(Array.from(over.data), [102, 0, 153, 255]);
});
