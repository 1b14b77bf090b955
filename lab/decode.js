/**
 * Photos in the worker: a source from the page (a URL, a Blob or File, an ImageBitmap, ImageData)
 * decoded by the browser (createImageBitmap, which also turns a phone photo upright by its EXIF
 * tag) and read through an OffscreenCanvas, then made into the model input (images.js).
 */
import { LabError } from './errors.js';
import { checkSize, gifFrames, imageHeader, photoFromRgba } from './images.js';

const LARGE_FILE_HEAD = 512 * 1024; // bytes read to find an image's size before decoding it

function rgbaOf(source, width, height) {
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0);
  return context.getImageData(0, 0, width, height).data;
}

/** A photo from encoded bytes (a file, a drop, a URL): header checked, then decoded by the browser. */
export async function photoFromBlob(tf, lab, blob, name) {
  let bytes = new Uint8Array(await blob.slice(0, LARGE_FILE_HEAD).arrayBuffer());
  let head = imageHeader(bytes);
  if ((head.type === 'JPEG' && head.width === null) || head.type === 'GIF') {
    bytes = new Uint8Array(await blob.arrayBuffer()); // a JPEG's size may come after its metadata; a GIF's frames
    head = imageHeader(bytes);
  }
  if (!head.type) {
    throw new LabError(`${name} is not an image the lab can read: choose a JPEG, PNG, GIF, BMP or WebP photo (the formats the book's loader decodes).`);
  }
  checkSize(lab, name, head.width, head.height);
  const notes = head.type === 'GIF' && gifFrames(bytes) > 1
    ? [`${name} is an animated GIF: only its first frame is used, as the book's loader does.`] : [];
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (error) {
    throw new LabError(`${name} looks like a ${head.type} file but the browser could not decode it (${error.message || error}).`);
  }
  try {
    checkSize(lab, name, bitmap.width, bitmap.height);
    return photoFromRgba(tf, lab, rgbaOf(bitmap, bitmap.width, bitmap.height), bitmap.width, bitmap.height, name, notes);
  } finally {
    bitmap.close();
  }
}

/** A photo from what the page sent: `{url}`, `{blob, name}`, `{bitmap, name}` or `{imageData, name}`. */
export async function decodeSource(tf, lab, source) {
  if (source.url) {
    const response = await fetch(source.url);
    if (!response.ok) throw new LabError(`${source.url} did not load (HTTP ${response.status}).`);
    const name = source.name ?? (source.url.startsWith('data:') ? 'the image' : decodeURIComponent(source.url.split('/').pop() || source.url));
    return photoFromBlob(tf, lab, await response.blob(), name);
  }
  if (source.blob) return photoFromBlob(tf, lab, source.blob, source.name);
  const { width, height } = source.bitmap ?? source.imageData;
  checkSize(lab, source.name, width, height);
  if (source.imageData) return photoFromRgba(tf, lab, source.imageData.data, width, height, source.name);
  try {
    return photoFromRgba(tf, lab, rgbaOf(source.bitmap, width, height), width, height, source.name);
  } finally {
    source.bitmap.close();
  }
}
