/**
 * Display values: the book's one colour scale per layer, matplotlib's colour maps (the tables
 * come from lab.json), and Grad-CAM's bilinear upsampling. Pure functions over arrays.
 */

/** A colour map from lab.json's hexadecimal string: 256 RGB triples as a Uint8Array. */
export function lut(hex) {
  const table = new Uint8Array(hex.length / 2);
  for (let i = 0; i < table.length; i++) table[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return table;
}

/**
 * The top of the book's one colour scale per layer (convlens.plotting.activations.layer_scale):
 * the `percentile` of all the layer's values (numpy's linear rule); 1 when none is above 0.
 */
export function layerHigh(data, percentile) {
  const sorted = Float32Array.from(data).sort();
  const rank = (percentile / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = sorted[low] + (rank - low) * (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]);
  return high > 0 ? high : 1;
}

/** One channel (stride `step` from `offset`) on the layer's scale 0..high, as 0..255 integers. */
export function layerScaled(data, count, offset, step, high) {
  const values = new Uint8Array(count);
  let blank = true;
  for (let i = 0; i < count; i++) {
    const value = data[offset + i * step];
    if (value !== 0) blank = false;
    values[i] = Math.min(255, Math.max(0, Math.round((value / high) * 255)));
  }
  return { values, blank };
}

/** The first channel, from `from` on, with a value above 0 (else `from`): where the view opens. */
export function activeChannel(data, channels, from = 0) {
  const peak = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) peak[i % channels] = Math.max(peak[i % channels], data[i]);
  for (let k = 0; k < channels; k++) if (peak[(from + k) % channels] > 0) return (from + k) % channels;
  return from;
}

/** Where the grid of a layer's `c` channels (h × w each) puts them: `columns`, `gap`, `width`, `height`. */
export function gridLayout(h, w, c, gap = 1) {
  const columns = Math.ceil(Math.sqrt(c * 2));
  const rows = Math.ceil(c / columns);
  return { columns, gap, width: columns * (w + gap) - gap, height: rows * (h + gap) - gap };
}

/**
 * A layer's activations `data` (h × w × c) drawn: one `channel` and, with `grid`, every channel
 * (white gaps), on the scale 0..high through `table`. RGBA arrays, ready for ImageData.
 */
export function layerImages(data, [h, w, c], high, channel, table, grid) {
  const one = layerScaled(data, h * w, channel, c, high);
  const image = { width: w, height: h, data: new Uint8ClampedArray(h * w * 4) };
  paint(image, one.values, h, w, table);
  const out = { channel, blank: one.blank, rgba: image.data };
  if (grid) {
    const layout = gridLayout(h, w, c);
    const all = { width: layout.width, height: layout.height, data: new Uint8ClampedArray(layout.width * layout.height * 4).fill(255) };
    for (let k = 0; k < c; k++) {
      const x0 = (k % layout.columns) * (w + layout.gap);
      paint(all, layerScaled(data, h * w, k, c, high).values, h, w, table, x0, Math.floor(k / layout.columns) * (h + layout.gap));
    }
    out.grid = { ...layout, rgba: all.data };
  }
  return out;
}

/** Display values (0..255, h × w) through a colour map into RGBA `image` ({width, data}) at (x0, y0). */
export function paint(image, values, h, w, table, x0 = 0, y0 = 0) {
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

/** RGB values in [0, 1] (h × w × 3) into RGBA `image`. */
export function paintRgb(image, pixels) {
  for (let p = 0; p < pixels.length / 3; p++) {
    for (let c = 0; c < 3; c++) image.data[4 * p + c] = Math.round(pixels[3 * p + c] * 255);
    image.data[4 * p + 3] = 255;
  }
}

/** The colour map as a horizontal bar, `width` × `height` RGBA (left: 0, right: the top). */
export function colourBar(image, table) {
  const values = new Uint8Array(image.width).map((_, x) => Math.round((x / Math.max(1, image.width - 1)) * 255));
  for (let y = 0; y < image.height; y++) paint(image, values, 1, image.width, table, 0, y);
}

/** Bilinear resize (half-pixel centres, edges clamped) of a one-channel map, as convlens.gradcam.upsample. */
export function upsample(map, h, w, outH, outW) {
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * h) / outH - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * w) / outW - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const top = map[y0 * w + x0] * (1 - dx) + map[y0 * w + x1] * dx;
      const bottom = map[y1 * w + x0] * (1 - dx) + map[y1 * w + x1] * dx;
      out[y * outW + x] = Math.min(1, Math.max(0, top * (1 - dy) + bottom * dy));
    }
  }
  return out;
}

/** Grad-CAM's two figures as RGBA: the heatmap (jet) alone, and over the photo with opacity `alpha`. */
export function camImages(heat, photo, table, alpha, heatImage, overlayImage) {
  for (let p = 0; p < heat.length; p++) {
    const v = Math.round(heat[p] * 255);
    for (let c = 0; c < 3; c++) {
      heatImage.data[4 * p + c] = table[3 * v + c];
      overlayImage.data[4 * p + c] = Math.round((1 - alpha) * photo[3 * p + c] * 255 + alpha * table[3 * v + c]);
    }
    heatImage.data[4 * p + 3] = overlayImage.data[4 * p + 3] = 255;
  }
}
