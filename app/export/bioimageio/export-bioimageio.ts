import { createHash } from 'node:crypto';
import os from 'node:os';
import yaml from 'js-yaml';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import yazl from 'yazl';
import { AppError } from '../../contract/errors.js';
import type { ImageEntry } from '../../contract/schemas.js';
import { prepareImage } from '../../engine/data/load-samples.js';
import { writeFileAtomic } from '../../files/atomic-write.js';
import { encodeNpy } from '../../files/npy.js';
import { readRaster, type RasterImage } from '../../imaging/read-image.js';
import type { Project } from '../../project/project.js';
import type { ModelCard } from '../model-card.js';
import { renderModelCard } from '../model-card.js';
import { ONNX_OPSET } from '../onnx/layers-to-onnx.js';
import { INPUT_ID, modelDescription, OUTPUT_ID, type PackageFile } from './model-description.js';
import { applyProcessing, preprocessingFor } from './processing.js';

/** The largest test tensor side: big enough to show the model working, small enough for the package. */
const TEST_SIDE = 256;

export interface BioimageioOptions {
  /** Author names (default: the user's login name). */
  authors?: string[];
  /** SPDX licence identifier. */
  license: string;
}

/** The package's files, by their names inside it. */
const FILES = {
  description: 'rdf.yaml',
  weights: 'model.onnx',
  documentation: 'README.md',
  testInput: 'test_input.npy',
  testOutput: 'test_output.npy',
  sampleInput: 'sample_input.png',
  cover: 'cover.png',
} as const;

/**
 * Writes a bioimage.io model package (a .zip with rdf.yaml at its root, format 0.5): the ONNX weights
 * (one `probabilities` output), a test input cut from one of the project's images at the model's
 * sizing and the test output the weights give for it after the declared preprocessing, that input as
 * a PNG sample, a cover (the sample beside its segmentation in class colours) and the model card as
 * README.md with its "Validation" section.
 */
export async function writeBioimageioPackage(project: Project, card: ModelCard, onnx: Uint8Array, zipFile: string, options: BioimageioOptions): Promise<void> {
  const bitDepth = trainingBitDepth(project);
  const { values: input, side } = await testInput(project, card, bitDepth);
  const channels = card.input.channels;
  const shape = [1, channels, side, side] as const;
  const preprocessing = preprocessingFor(bitDepth);
  const probabilities = await runWeights(onnx, applyProcessing(preprocessing, input, shape), shape);
  const outputShape = [1, card.output.channels, side, side];

  const contents = new Map<string, Uint8Array>([
    [FILES.weights, onnx],
    [FILES.testInput, encodeNpy(input, shape)],
    [FILES.testOutput, encodeNpy(probabilities, outputShape)],
    [FILES.sampleInput, await samplePng(input, channels, side, bitDepth)],
    [FILES.cover, await coverPng(applyProcessing(preprocessing, input, shape), probabilities, card, side)],
    [FILES.documentation, Buffer.from(renderModelCard(card))],
  ]);
  const file = (source: string): PackageFile => ({ source, sha256: createHash('sha256').update(contents.get(source)!).digest('hex') });
  const description = modelDescription({
    card,
    authors: options.authors?.length ? options.authors : [os.userInfo().username],
    license: options.license,
    bitDepth,
    preprocessing,
    onnx: { ...file(FILES.weights), opsetVersion: ONNX_OPSET },
    testInput: file(FILES.testInput),
    testOutput: file(FILES.testOutput),
    sampleInput: file(FILES.sampleInput),
    cover: FILES.cover,
    documentation: FILES.documentation,
  });
  contents.set(FILES.description, Buffer.from(yaml.dump(description, { lineWidth: 120, noRefs: true })));
  await writeFileAtomic(zipFile, await zip(contents, new Date(card.exportedAt)));
}

/** The sample type most of the training images have (the package declares one). */
function trainingBitDepth(project: Project): 8 | 16 {
  const images = project.images.filter((image) => image.mask !== null);
  const pool = images.length ? images : project.images;
  const sixteen = pool.filter((image) => image.bitDepth === 16).length;
  return sixteen * 2 > pool.length ? 16 : 8;
}

/**
 * The first labelled image of that bit depth at the model's sizing and channels, its stored values
 * kept (rounded after resizing), cut to a square of whole size multiples, at most TEST_SIDE, C order.
 */
async function testInput(project: Project, card: ModelCard, bitDepth: 8 | 16): Promise<{ values: Uint8Array | Uint16Array; side: number }> {
  const candidates = project.images.filter((image) => image.bitDepth === bitDepth);
  const entry: ImageEntry | undefined = candidates.find((image) => image.mask !== null) ?? candidates[0];
  if (!entry) throw new AppError('not_found', `Project ${project.name} has no ${bitDepth}-bit image to make the bioimage.io test tensor from.`);
  const raster = await readRaster(await project.resolve(entry.file), { maxPixels: project.settings.maxImagePixels, page: entry.page });
  const channels = card.input.channels;
  const stored = (region: RasterImage) => Float32Array.from(region.data);
  const prepared = prepareImage(raster, channels, card.input.sizing, stored);
  const multiple = card.input.sizeMultiple;
  const side = Math.min(TEST_SIDE, Math.max(multiple, Math.floor(Math.min(prepared.width, prepared.height) / multiple) * multiple));
  const max = bitDepth === 8 ? 255 : 65535;
  const values = bitDepth === 8 ? new Uint8Array(channels * side * side) : new Uint16Array(channels * side * side);
  // Zeros pad an image smaller than one size multiple, as segmentation does.
  for (let y = 0; y < Math.min(side, prepared.height); y++) {
    for (let x = 0; x < Math.min(side, prepared.width); x++) {
      for (let c = 0; c < channels; c++) values[(c * side + y) * side + x] = Math.min(max, Math.max(0, Math.round(prepared.image[(y * prepared.width + x) * channels + c]!)));
    }
  }
  return { values, side };
}

async function runWeights(onnx: Uint8Array, input: Float32Array, shape: readonly number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const results = await session.run({ [INPUT_ID]: new ort.Tensor('float32', input, [...shape]) });
    return results[OUTPUT_ID]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** C-order [1, C, side, side] as an interleaved image for PNG encoders. */
function interleave<T extends Uint8Array | Uint16Array>(planes: T, channels: number, side: number, make: (length: number) => T): T {
  const out = make(planes.length);
  for (let c = 0; c < channels; c++) for (let p = 0; p < side * side; p++) out[p * channels + c] = planes[c * side * side + p]!;
  return out;
}

async function samplePng(input: Uint8Array | Uint16Array, channels: number, side: number, bitDepth: 8 | 16): Promise<Buffer> {
  const pixels = input instanceof Uint8Array ? interleave(input, channels, side, (n) => new Uint8Array(n)) : interleave(input, channels, side, (n) => new Uint16Array(n));
  // sharp takes the sample type (8 or 16 bits) from the typed array.
  const image = sharp(pixels, { raw: { width: side, height: side, channels: channels as 1 | 3 } });
  return (channels === 1 ? image.toColourspace(bitDepth === 16 ? 'grey16' : 'b-w') : image.toColourspace(bitDepth === 16 ? 'rgb16' : 'srgb')).png().toBuffer();
}

/** The normalised test input beside its segmentation in the class colours: 2:1, as the specification asks of covers. */
async function coverPng(normalised: Float32Array, probabilities: Float32Array, card: ModelCard, side: number): Promise<Buffer> {
  const pixels = side * side;
  const rgb = new Uint8Array(side * 2 * side * 3);
  const colours = card.classes.map((entry) => [1, 3, 5].map((at) => parseInt(entry.colour.slice(at, at + 2), 16)));
  const outputChannels = card.output.channels;
  for (let p = 0; p < pixels; p++) {
    const row = Math.floor(p / side);
    const left = (row * 2 * side + (p % side)) * 3;
    for (let c = 0; c < 3; c++) rgb[left + c] = Math.round(255 * Math.min(1, Math.max(0, normalised[(card.input.channels === 1 ? 0 : c) * pixels + p]!)));
    let label = 0;
    if (outputChannels === 1) label = probabilities[p]! > 0.5 ? 1 : 0;
    else for (let k = 1; k < outputChannels; k++) if (probabilities[k * pixels + p]! > probabilities[label * pixels + p]!) label = k;
    rgb.set(colours[label]!, left + side * 3);
  }
  return sharp(Buffer.from(rgb.buffer), { raw: { width: 2 * side, height: side, channels: 3 } }).png().toBuffer();
}

/** The files as a .zip, each stored with the export time (so the same export gives the same bytes). */
async function zip(contents: ReadonlyMap<string, Uint8Array>, mtime: Date): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const [name, data] of contents) archive.addBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength), name, { mtime });
  archive.end();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
