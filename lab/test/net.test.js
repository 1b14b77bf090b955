import assert from 'node:assert/strict';
import test from 'node:test';
import { Net, activationGrad, maxPoolGrad } from '../net.js';
import { LabError } from '../errors.js';
import { maxDiff, tf, tinyNet } from './helpers.js';

/** maxPoolGrad as the network calls it: the gradient of sum(w * maxPool(x)) with respect to x. */
function poolGrad(x, pool) {
  const y = tf.maxPool(x, pool, pool, 'valid');
  const dy = tf.randomUniform(y.shape, 0.5, 1.5, 'float32', 4);
  return { ours: maxPoolGrad(tf, x, y, dy, pool), library: tf.grad((z) => tf.sum(tf.mul(tf.maxPool(z, pool, pool, 'valid'), dy)))(x), dy };
}

test('maxPoolGrad (the tensor path the page runs) equals the library gradient where windows have one maximum', () => {
  for (const shape of [[1, 4, 4, 3], [2, 7, 5, 2]]) { // 7 x 5: rows and columns left over, padded with 0
    const { ours, library } = poolGrad(tf.randomUniform(shape, -1, 1, 'float32', 7), [2, 2]);
    assert.deepEqual(ours.shape, shape);
    assert.ok(maxDiff(ours.dataSync(), library.dataSync()) < 1e-6);
  }
});

test('maxPoolGrad gives a tied window\'s gradient to its first maximum, also when the window is all zeros', () => {
  const x = tf.tensor4d([0, 0, 0, 0, 5, 1, 5, 5], [1, 2, 4, 1]); // windows [[0, 0], [5, 1]] and [[0, 0], [5, 5]]
  const { ours, dy } = poolGrad(x, [2, 2]);
  const [g0, g1] = dy.dataSync();
  assert.deepEqual(Array.from(ours.dataSync()), [0, 0, 0, 0, g0, 0, g1, 0]);
  const zeros = poolGrad(tf.zeros([1, 2, 2, 1]), [2, 2]);
  assert.deepEqual(Array.from(zeros.ours.dataSync()), [zeros.dy.dataSync()[0], 0, 0, 0]);
});

test('activationGrad: ReLU passes where the output is positive; other activations have no gradient here', () => {
  const dy = tf.tensor1d([1, 2, 3]);
  assert.deepEqual(Array.from(activationGrad(tf, dy, tf.tensor1d([0, 1, 0.5]), 'relu').dataSync()), [0, 2, 3]);
  assert.throws(() => activationGrad(tf, dy, dy, 'sigmoid'), LabError);
});

/** The tiny network with library ops only (no custom gradients), for reference. */
function plain(weights, x, logit) {
  let y = tf.relu(tf.add(tf.conv2d(x, weights['conv/kernel'], 1, 'valid'), weights['conv/bias']));
  y = tf.reshape(tf.maxPool(y, 2, 2, 'valid'), [x.shape[0], -1]);
  y = tf.add(tf.matMul(y, weights['dense/kernel']), weights['dense/bias']);
  return logit ? y : tf.sigmoid(y);
}

test('Net rebuilds the layer list: outputs and input gradients as the library\'s own ops give them', () => {
  const { spec, weights } = tinyNet();
  const net = new Net(tf, spec, weights);
  const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 3);
  assert.ok(maxDiff(net.run(x).dataSync(), plain(weights, x, false).dataSync()) < 1e-6);
  const keep = { names: ['pool'], out: {} };
  net.run(x, 0, net.layers.length - 1, { keep });
  assert.deepEqual(keep.out.pool.shape, [2, 2, 2, 3]);
  const ours = tf.grad((z) => tf.sum(net.run(z, 0, net.layers.length - 1, { logit: true })))(x);
  const library = tf.grad((z) => tf.sum(plain(weights, z, true)))(x);
  assert.ok(maxDiff(ours.dataSync(), library.dataSync()) < 1e-5);
  assert.equal(net.outputSide(net.index('pool'), 6), 2);
  assert.equal(net.outputSide(net.index('conv'), 2), 0);
});

test('Net names the layers it does not know, and the weights it lacks', () => {
  const { spec, weights } = tinyNet();
  assert.throws(() => new Net(tf, spec, { ...weights, 'conv/bias': undefined }), /conv\/bias/);
  const odd = structuredClone(spec);
  odd.convlensLayers[2].type = 'AveragePooling2D';
  assert.throws(() => new Net(tf, odd, weights), /AveragePooling2D/);
  assert.throws(() => new Net(tf, spec, weights).index('nope'), /choose one of conv, pool/);
});
