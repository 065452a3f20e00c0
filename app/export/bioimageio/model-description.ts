import type { ModelCard } from '../model-card.js';
import type { ProcessingStep } from './processing.js';

/**
 * The bioimage.io model description (format 0.5, written as rdf.yaml) of an exported U-Net, built
 * from its model card. Field names, types and rules follow bioimage-io/spec-bioimage-io
 * (src/bioimageio/spec/model/v0_5.py and generic/v0_3.py, tag v0.5.7.2).
 */

/** The newest model format of the specification (its own rule: "always use the latest micro/patch version"). */
export const BIOIMAGEIO_FORMAT_VERSION = '0.5.7';

export const INPUT_ID = 'image';
export const OUTPUT_ID = 'probabilities';

/** The U-Net paper, which every description of a U-Net cites. */
const UNET_CITATION = {
  text: 'Ronneberger, O., Fischer, P., Brox, T. U-Net: Convolutional Networks for Biomedical Image Segmentation. MICCAI 2015.',
  doi: '10.1007/978-3-319-24574-4_28',
};

const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

export interface PackageFile {
  /** Name inside the package. */
  source: string;
  sha256: string;
}

export interface DescriptionFacts {
  card: ModelCard;
  authors: string[];
  /** SPDX identifier. */
  license: string;
  /** Stored sample type of the images the model was trained on. */
  bitDepth: 8 | 16;
  preprocessing: ProcessingStep[];
  onnx: PackageFile & { opsetVersion: number };
  testInput: PackageFile;
  testOutput: PackageFile;
  sampleInput: PackageFile;
  cover: string;
  documentation: string;
}

/**
 * A name of 5 to 128 characters (64 recommended) using only letters, digits, `_+- ()` and spaces
 * (ModelDescr.name); other characters become '-'.
 */
export function descriptionName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_+\- ()]+/g, '-').replace(/\s+/g, ' ').trim().slice(0, 64).trim();
  return cleaned.length >= 5 ? cleaned : `${cleaned} U-Net`.trim();
}

/** Channel names must be Python identifiers that are not keywords, unique within the axis. */
export function channelIdentifiers(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let id = name.normalize('NFKD').replace(/[^\w]+/g, '_').replace(/^_+|_+$/g, '') || 'class';
    if (/^\d/.test(id)) id = `class_${id}`;
    if (PYTHON_KEYWORDS.has(id)) id = `${id}_`;
    let unique = id;
    for (let n = 2; used.has(unique); n++) unique = `${id}_${n}`;
    used.add(unique);
    return unique;
  });
}

/** The rdf.yaml content as a plain object (serialised with js-yaml). */
export function modelDescription(facts: DescriptionFacts): Record<string, unknown> {
  const { card } = facts;
  const binary = card.output.channels === 1;
  const outputNames = binary ? [card.classes[1]?.name ?? 'foreground'] : card.classes.map((entry) => entry.name);
  const spaceAxis = (id: 'y' | 'x') => ({ type: 'space', id, size: { min: card.input.sizeMultiple, step: card.input.sizeMultiple } });
  const sameAsInput = (id: 'y' | 'x') => ({ type: 'space', id, size: { tensor_id: INPUT_ID, axis_id: id } });
  const sizing = card.input.sizing;
  const sizingNote = sizing.mode === 'size' ? ` It was trained on images resized to ${sizing.width} x ${sizing.height}.` : sizing.scale === 1 ? '' : ` It was trained on images scaled by ${sizing.scale}: scale images the same way first.`;
  return {
    format_version: BIOIMAGEIO_FORMAT_VERSION,
    type: 'model',
    name: descriptionName(card.name),
    description: `${card.description}${sizingNote}`.slice(0, 512),
    authors: facts.authors.map((name) => ({ name })),
    cite: [UNET_CITATION],
    license: facts.license,
    tags: ['unet2d', '2d', 'segmentation', 'semantic-segmentation', 'onnx', 'u-net-studio', ...channelIdentifiers(card.classes.filter((entry) => entry.id !== 0).map((entry) => entry.name.toLowerCase()))],
    covers: [facts.cover],
    documentation: facts.documentation,
    timestamp: card.exportedAt,
    inputs: [
      {
        id: INPUT_ID,
        description: `${card.input.channels === 1 ? 'grey' : 'RGB'} image, ${facts.bitDepth}-bit, height and width multiples of ${card.input.sizeMultiple}`,
        axes: [{ type: 'batch' }, { type: 'channel', channel_names: card.input.channels === 1 ? ['grey'] : ['red', 'green', 'blue'] }, spaceAxis('y'), spaceAxis('x')],
        test_tensor: { source: facts.testInput.source, sha256: facts.testInput.sha256 },
        sample_tensor: { source: facts.sampleInput.source, sha256: facts.sampleInput.sha256 },
        data: { type: facts.bitDepth === 8 ? 'uint8' : 'uint16', range: [0, facts.bitDepth === 8 ? 255 : 65535] },
        preprocessing: facts.preprocessing,
      },
    ],
    outputs: [
      {
        id: OUTPUT_ID,
        description: binary ? `probability of ${outputNames[0]} (sigmoid)` : 'probability of each class (softmax over the channels)',
        axes: [{ type: 'batch' }, { type: 'channel', channel_names: channelIdentifiers(outputNames) }, sameAsInput('y'), sameAsInput('x')],
        test_tensor: { source: facts.testOutput.source, sha256: facts.testOutput.sha256 },
        data: { type: 'float32', range: [0, 1] },
      },
    ],
    weights: {
      onnx: {
        source: facts.onnx.source,
        sha256: facts.onnx.sha256,
        opset_version: facts.onnx.opsetVersion,
        authors: facts.authors.map((name) => ({ name })),
        comment: `Trained and exported by U-Net Studio ${card.appVersion} (run ${card.runId} of project "${card.project}").`,
      },
    },
  };
}
