/** Shared by the lab's unit tests: TensorFlow.js on its CPU back-end, under node. */
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
export { tf };

/** The largest absolute difference between two arrays of numbers. */
export function maxDiff(a, b) {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A small chain model as convlens.tfjs writes it: conv (valid) -> pool 2 -> flatten -> dense (sigmoid). */
export function tinyNet(seed = 1) {
  const layers = [
    { name: 'input', type: 'InputLayer', weights: [], outputShape: [6, 6, 3] },
    { name: 'conv', type: 'Conv2D', weights: ['conv/kernel', 'conv/bias'], kernelSize: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu', useBias: true, outputShape: [4, 4, 3] },
    { name: 'pool', type: 'MaxPooling2D', weights: [], poolSize: [2, 2], strides: [2, 2], padding: 'valid', outputShape: [2, 2, 3] },
    { name: 'flat', type: 'Flatten', weights: [], outputShape: [12] },
    { name: 'drop', type: 'Dropout', weights: [], rate: 0.5, outputShape: [12] },
    { name: 'dense', type: 'Dense', weights: ['dense/kernel', 'dense/bias'], units: 1, activation: 'sigmoid', useBias: true, outputShape: [1] },
  ];
  const weights = {
    'conv/kernel': tf.randomNormal([3, 3, 3, 3], 0, 0.5, 'float32', seed),
    'conv/bias': tf.tensor1d([0.1, -0.05, 0.02]),
    'dense/kernel': tf.randomNormal([12, 1], 0, 0.5, 'float32', seed + 1),
    'dense/bias': tf.tensor1d([0.05]),
  };
  return { spec: { variant: 'tiny', convlensLayers: layers }, weights };
}
