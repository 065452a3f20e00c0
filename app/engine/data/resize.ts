/**
 * Resizing for training data: bilinear for intensities, nearest-neighbour for labels (a label is a
 * class, never a blend of two). Pixel centres are aligned (half-pixel convention), as in PyTorch's
 * `align_corners=False` and PIL, so a resized mask stays on top of its resized image.
 */
export function resizeBilinear(image: Float32Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Float32Array {
  if (outWidth === width && outHeight === height) return image;
  const out = new Float32Array(outWidth * outHeight * channels);
  const sx = width / outWidth;
  const sy = height / outHeight;
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const top = image[(y0 * width + x0) * channels + c]! * (1 - wx) + image[(y0 * width + x1) * channels + c]! * wx;
        const bottom = image[(y1 * width + x0) * channels + c]! * (1 - wx) + image[(y1 * width + x1) * channels + c]! * wx;
        out[(y * outWidth + x) * channels + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

export function resizeNearest(labels: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (outWidth === width && outHeight === height) return labels;
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const sourceY = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight));
    for (let x = 0; x < outWidth; x++) {
      const sourceX = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth));
      out[y * outWidth + x] = labels[sourceY * width + sourceX]!;
    }
  }
  return out;
}
