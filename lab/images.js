/**
 * Images: the book's loader (convlens.images.load_image), in the browser. Sizes are read from the
 * file's header before it is decoded; transparency is composited over white and gray copied to R,
 * G and B; any other size is resized as TensorFlow's tf.image.resize(..., antialias=True) does,
 * then rounded to whole 0-255 values. TensorFlow.js has no antialiased resize:
 * tf.image.resizeBilinear agrees with it only when enlarging (within 1/255) and is up to 114/255
 * off when shrinking a photo, so the triangle kernel's weights are built here, as TensorFlow's
 * scale-and-translate kernel builds them, and applied with tf.matMul.
 */
import { LabError } from './errors.js';

function readUint(bytes, at, size, little) {
  let value = 0;
  for (let i = 0; i < size; i++) value += bytes[at + i] * 2 ** (8 * (little ? i : size - 1 - i));
  return value;
}

function jpegSize(bytes) {
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
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegSize(bytes);
  return { type: null, width: null, height: null };
}

/** How many frames a GIF file holds (its image descriptors), walking its blocks; 0 if it is cut short. */
export function gifFrames(bytes) {
  const skipSubBlocks = (at) => {
    while (at < bytes.length && bytes[at] !== 0) at += bytes[at] + 1;
    return at + 1;
  };
  const table = (flags) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  let at = 13 + table(bytes[10]);
  let frames = 0;
  while (at < bytes.length) {
    const kind = bytes[at];
    if (kind === 0x3b) break; // trailer
    if (kind === 0x21) at = skipSubBlocks(at + 2); // extension
    else if (kind === 0x2c) {
      frames++;
      at = skipSubBlocks(at + 10 + table(bytes[at + 9]) + 1); // descriptor, local table, LZW size, data
    } else break;
  }
  return frames;
}

/** Refuse an image over the book's pixel limit or under the lab's smallest side (sizes may be null). */
export function checkSize(lab, name, width, height) {
  if (width === null || height === null) return;
  if (width * height > lab.maxImagePixels) {
    throw new LabError(`${name} is ${width} × ${height} pixels, more than the book's limit of ${lab.maxImagePixels.toLocaleString('en')} pixels: shrink it first.`);
  }
  if (Math.min(width, height) < lab.minImageSide) {
    throw new LabError(`${name} is only ${width} × ${height} pixels: too small to show a cat or a dog; the lab needs at least ${lab.minImageSide} × ${lab.minImageSide}.`);
  }
}

const f32 = Math.fround;

/**
 * TensorFlow's antialiased triangle-kernel weights from `inSize` to `outSize` pixels, in float32
 * as its scale-and-translate kernel computes them: an (outSize × inSize) matrix, rows summing to 1.
 */
export function resizeWeights(inSize, outSize) {
  const invScale = f32(1 / f32(outSize / inSize));
  const kernelScale = Math.max(invScale, 1); // antialias: the kernel widens when shrinking
  const oneOverKernelScale = f32(1 / kernelScale);
  const matrix = new Float32Array(outSize * inSize);
  for (let x = 0; x < outSize; x++) {
    const sample = f32(f32(x + 0.5) * invScale);
    const start = Math.min(Math.max(Math.ceil(f32(f32(sample - kernelScale) - 0.5)), 0), inSize - 1);
    const end = Math.min(Math.max(Math.floor(f32(f32(sample + kernelScale) - 0.5)), 0), inSize - 1) + 1;
    let total = 0;
    for (let source = start; source < end; source++) {
      const position = Math.abs(f32(f32(f32(source + 0.5) - sample) * oneOverKernelScale));
      const weight = position < 1 ? f32(1 - position) : 0;
      matrix[x * inSize + source] = weight;
      total = f32(total + weight);
    }
    const inverse = total > 0 ? f32(1 / total) : 0;
    for (let source = start; source < end; source++) matrix[x * inSize + source] = f32(matrix[x * inSize + source] * inverse);
  }
  return matrix;
}

/**
 * RGB values (0-255, h × w × 3, a Float32Array) as the book's loader makes the model input:
 * resized to [outH, outW] (rows, then columns), rounded half to even, clipped, in [0, 1].
 */
export function resizeRgb(tf, rgb, h, w, [outH, outW]) {
  return tf.tidy(() => {
    let x = tf.tensor2d(rgb, [h, w * 3]);
    if (h !== outH || w !== outW) {
      const rows = tf.matMul(tf.tensor2d(resizeWeights(h, outH), [outH, h]), x); // (outH, w·3)
      const byColumn = tf.reshape(tf.transpose(tf.reshape(rows, [outH, w, 3]), [1, 0, 2]), [w, outH * 3]);
      const columns = tf.matMul(tf.tensor2d(resizeWeights(w, outW), [outW, w]), byColumn); // (outW, outH·3)
      x = tf.transpose(tf.reshape(columns, [outW, outH, 3]), [1, 0, 2]);
    }
    return tf.div(tf.clipByValue(tf.round(x), 0, 255), 255).dataSync();
  });
}

/**
 * A model input from RGBA pixels (not premultiplied): composited over white in float32 (as the
 * book's PNG decoder does), resized; `{name, width, height, notes, pixels}`.
 */
export function photoFromRgba(tf, lab, rgba, width, height, name, notes = []) {
  const rgb = new Float32Array(width * height * 3);
  let transparent = false;
  let gray = true;
  for (let p = 0; p < width * height; p++) {
    const alpha = f32(rgba[4 * p + 3] / 255);
    if (alpha < 1) transparent = true;
    if (rgba[4 * p] !== rgba[4 * p + 1] || rgba[4 * p + 1] !== rgba[4 * p + 2]) gray = false;
    for (let c = 0; c < 3; c++) rgb[3 * p + c] = f32(f32(rgba[4 * p + c] * alpha) + f32(255 * f32(1 - alpha)));
  }
  const said = [...notes];
  const [outH, outW] = lab.imageSize;
  if (transparent) said.push(`${name} has transparent parts: they are shown over white, as the book's loader does.`);
  if (gray) said.push(`${name} is a grayscale image: its gray is copied to red, green and blue, as the book's loader does (the models were trained on colour photos).`);
  if (width !== outW || height !== outH) said.push(`${name} (${width} × ${height}) was resized to ${outW} × ${outH}, as the book's loader does.`);
  return { name, width, height, notes: said, pixels: resizeRgb(tf, rgb, height, width, lab.imageSize) };
}
