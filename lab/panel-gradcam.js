/**
 * Grad-CAM (chapter 4): each model's heatmap for its predicted class, alone (jet, with its colour
 * bar) and over the photo, the three models side by side. The worker draws the pixels.
 */
import { lut } from './colors.js';
import { ONLY_CATS_AND_DOGS, colourBarFigure, el, errorText, messageBox, saveButton, sizeCanvas } from './dom.js';

export function gradcamPanel(lab, api, root, photos) {
  const alpha = lab.overlayAlpha;
  const [H, W] = lab.imageSize;
  const columns = lab.variants.map((v) => {
    const heat = el('canvas', { class: 'convlens-lab-heat', width: W, height: H, role: 'img', 'aria-label': `Grad-CAM heatmap, ${v.title}` });
    const overlay = el('canvas', { class: 'convlens-lab-overlay', width: W, height: H, role: 'img', 'aria-label': `Grad-CAM over the photo, ${v.title}` });
    const title = el('p', { class: 'convlens-lab-caption' }, v.title);
    const saves = [saveButton(heat, () => `gradcam-${v.name}`, 'Save heatmap'), saveButton(overlay, () => `gradcam-${v.name}-over-photo`, 'Save overlay')];
    const figure = el('figure', { class: 'convlens-lab-cam', 'data-variant': v.name }, title, heat, overlay, el('span', { class: 'convlens-lab-saves' }, ...saves));
    return { variant: v, heat, overlay, title, saves, root: figure };
  });
  const message = messageBox();
  const bar = colourBarFigure(lut(lab.colormaps.jet), 'jet', "how much each place raised the predicted class's score: 0 (none) is dark blue, the photo's most is dark red", ['0', '1']);
  const caption = el('p', { class: 'convlens-lab-caption' },
    `Grad-CAM at ${lab.gradcamLayer} for each model's predicted class: the heatmap alone (jet) and over the photo (opacity ${alpha}). ${ONLY_CATS_AND_DOGS}`);
  root.append(el('h3', { class: 'convlens-lab-title' }, 'Grad-CAM'), message, el('div', { class: 'convlens-lab-cams' }, ...columns.map((c) => c.root)), bar, caption);
  let serial = 0;
  photos.onPhoto(async (photo) => {
    const mine = ++serial;
    try {
      for (const column of columns) {
        const cam = await api.gradcamView(photo, column.variant.name);
        if (mine !== serial) return;
        sizeCanvas(column.heat, W, H).putImageData(new ImageData(cam.heat, W, H), 0, 0);
        sizeCanvas(column.overlay, W, H).putImageData(new ImageData(cam.overlay, W, H), 0, 0);
        column.title.textContent = `${column.variant.title}: P(dog) = ${cam.probability.toFixed(3)}, explains “${cam.classIndex ? 'dog' : 'cat'}”`;
        column.saves.forEach((button) => { button.disabled = false; });
        column.root.dataset.drawn = 'true';
      }
      message.show('');
    } catch (error) {
      message.show(errorText(error), 'error');
    }
  });
}
