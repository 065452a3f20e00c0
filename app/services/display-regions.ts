import sharp from 'sharp';
import type { DisplayRegion, DisplayRegionRequest } from '../contract/studio.js';
import { AppError } from '../contract/errors.js';
import { toDisplay8 } from '../imaging/normalise.js';
import { colourChannelCount, readRaster } from '../imaging/read-image.js';
import type { Project } from '../project/project.js';

/** An image decoded once for display (8-bit, as images.display shows it), for cutting levels and tiles from. */
interface DisplayRaster {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  colour: 1 | 3;
}

/**
 * The editor's progressive open: a big image is decoded once and kept (the last one only: an
 * 8000² RGB image is 192 MB), then a downscaled level and full-resolution tiles are cut from it,
 * each a small answer that arrives fast, instead of one huge PNG for the whole image.
 */
export class DisplayRegions {
  private cached: { key: string; raster: Promise<DisplayRaster> } | null = null;

  async region(project: Project, request: DisplayRegionRequest): Promise<DisplayRegion> {
    const entry = project.image(request.id);
    const raster = await this.raster(project, request.id);
    const { width: imageWidth, height: imageHeight } = raster;
    const region = request.region ?? { x: 0, y: 0, width: imageWidth, height: imageHeight };
    if (region.x + region.width > imageWidth || region.y + region.height > imageHeight) {
      throw new AppError(
        'invalid_input',
        `The region ${region.width}x${region.height} at ${region.x},${region.y} lies outside ${entry.originalName} (${imageWidth}x${imageHeight}).`,
      );
    }
    let image = sharp(raster.pixels, { raw: { width: imageWidth, height: imageHeight, channels: raster.channels }, limitInputPixels: false });
    if (raster.colour !== raster.channels) image = image.removeAlpha();
    if (region.width !== imageWidth || region.height !== imageHeight) image = image.extract({ left: region.x, top: region.y, width: region.width, height: region.height });
    const scale = request.maxSide ? Math.min(1, request.maxSide / Math.max(region.width, region.height)) : 1;
    const width = Math.max(1, Math.round(region.width * scale));
    const height = Math.max(1, Math.round(region.height * scale));
    // A downscaled level is a stand-in until the tiles arrive: JPEG is quick both ways. Tiles are the real pixels: PNG.
    const encoded = scale < 1 ? await image.resize(width, height).jpeg({ quality: 90 }).toBuffer() : await image.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
    return { mime: scale < 1 ? 'image/jpeg' : 'image/png', base64: encoded.toString('base64'), width, height, region, imageWidth, imageHeight };
  }

  private raster(project: Project, id: string): Promise<DisplayRaster> {
    const key = `${project.root}\0${id}`;
    if (this.cached?.key === key) return this.cached.raster;
    const raster = decode(project, id);
    this.cached = { key, raster };
    // A failed decode is not kept: the next request tries again (the file may have been fixed).
    raster.catch(() => {
      if (this.cached?.raster === raster) this.cached = null;
    });
    return raster;
  }
}

async function decode(project: Project, id: string): Promise<DisplayRaster> {
  const entry = project.image(id);
  const raster = await readRaster(await project.resolve(entry.file), { maxPixels: project.settings.maxImagePixels, page: entry.page });
  return { pixels: toDisplay8(raster), width: raster.width, height: raster.height, channels: raster.channels, colour: colourChannelCount(raster.channels) };
}
