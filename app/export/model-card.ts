import { z } from 'zod';
import type { ModelExportFormat } from '../contract/model-export.js';
import { ClassDef } from '../contract/schemas.js';
import { InputSizing, ModelConfig, type EpochRecord, type RunSummary } from '../contract/training.js';
import { UNET_SIZE_MULTIPLE } from '../engine/model/build-unet.js';
import { NORMALISATION_RULE } from '../imaging/normalise.js';
import { nodeSnippet, pythonSnippet, type SnippetFacts, tfjsSnippet } from './card-snippets.js';

/** What the trainer records in `runs/<id>/model/model.json` under `userDefinedMetadata.unetStudio`. */
export const TrainedModelFacts = z.object({
  runId: z.string(),
  epoch: z.number().int(),
  valDice: z.number().nullable(),
  model: ModelConfig,
  sizing: InputSizing,
  classes: z.array(ClassDef),
});
export type TrainedModelFacts = z.infer<typeof TrainedModelFacts>;

/** The facts of an exported model, written beside it as `<name>.json` and rendered as `<name>.md`. */
export interface ModelCard {
  name: string;
  description: string;
  format: ModelExportFormat;
  /** Model files, relative to the card. */
  files: string[];
  project: string;
  runId: string;
  appVersion: string;
  exportedAt: string;
  classes: { id: number; name: string; colour: string }[];
  input: {
    name: string;
    layout: 'NCHW' | 'NHWC';
    dtype: 'float32';
    channels: 1 | 3;
    sizeMultiple: number;
    padding: string;
    normalisation: string;
    channelRule: string;
    sizing: InputSizing;
    sizingRule: string;
  };
  output: {
    /** Output names; `logits` is null where only probabilities are given (the bioimage.io package). */
    logits: string | null;
    probabilities: string | null;
    layout: 'NCHW' | 'NHWC';
    channels: number;
    activation: 'sigmoid' | 'softmax';
    decoding: string;
  };
  metrics: {
    bestEpoch: number;
    valDice: number | null;
    valIou: number | null;
    pixelAccuracy: number | null;
    perClass: { name: string; dice: number; iou: number }[];
  };
  training: {
    preset: string;
    model: ModelConfig;
    epochsPlanned: number;
    epochsDone: number;
    state: string;
    batchSize: number;
    learningRate: number;
    optimizer: string;
    weightDecay: number;
    schedule: string;
    patchSize: number | null;
    augmentation: RunSummary['config']['settings']['augmentation'];
    classWeights: number[] | null;
    validationPercent: number;
    trainImages: number;
    valImages: number;
    backend: string | null;
    startedAt: string;
  };
  limitations: string[];
}

export interface ModelCardSource {
  name: string;
  format: ModelExportFormat;
  files: string[];
  project: string;
  appVersion: string;
  trained: TrainedModelFacts;
  run: RunSummary;
  /** The metrics of the saved (best) epoch, when recorded. */
  bestRecord: EpochRecord | null;
  /** Whether the ONNX file has the `probabilities` output. */
  probabilities: boolean;
  /** Whether it has only that output (no `logits`). */
  probabilitiesOnly?: boolean;
}

export function buildModelCard(source: ModelCardSource): ModelCard {
  const { trained, run, bestRecord, format } = source;
  const settings = run.config.settings;
  const binary = trained.model.classes === 2;
  const foreground = trained.classes.filter((entry) => entry.id !== 0).map((entry) => entry.name);
  const layout = format === 'tfjs' ? 'NHWC' : 'NCHW';
  return {
    name: source.name,
    description:
      `Segments ${foreground.join(', ')} (and background) in images like those of project "${source.project}": ` +
      `a U-Net (base ${trained.model.base}, ${trained.model.upsampling === 'bilinear' ? 'bilinear' : 'transposed-convolution'} up-sampling) ` +
      `trained with U-Net Studio, run ${trained.runId}.`,
    format,
    files: source.files,
    project: source.project,
    runId: trained.runId,
    appVersion: source.appVersion,
    exportedAt: new Date().toISOString(),
    classes: trained.classes.map(({ id, name, color }) => ({ id, name, colour: color })),
    input: {
      name: 'image',
      layout,
      dtype: 'float32',
      channels: trained.model.inputChannels,
      sizeMultiple: UNET_SIZE_MULTIPLE,
      padding: `Pad height and width with zeros at the bottom and right up to multiples of ${UNET_SIZE_MULTIPLE} (as in training), then crop the output back.`,
      normalisation: NORMALISATION_RULE,
      channelRule:
        trained.model.inputChannels === 1
          ? 'One channel: colour images are converted to luma 0.299 R + 0.587 G + 0.114 B (after normalisation); alpha is dropped.'
          : 'Three channels (R, G, B): grey images are repeated into all three; alpha is dropped.',
      sizing: trained.sizing,
      sizingRule: sizingRule(trained.sizing),
    },
    output: {
      logits: source.probabilitiesOnly ? null : 'logits',
      probabilities: format !== 'tfjs' && (source.probabilities || source.probabilitiesOnly) ? 'probabilities' : null,
      layout,
      channels: binary ? 1 : trained.model.classes,
      activation: binary ? 'sigmoid' : 'softmax',
      decoding: binary
        ? `One channel: the ${foreground[0]} probability is sigmoid(logit); pixels above 0.5 (logit above 0) are class 1, the rest background.`
        : `One channel per class id 0..${trained.model.classes - 1}: softmax over the channels gives probabilities; the class of a pixel is the argmax.`,
    },
    metrics: {
      bestEpoch: trained.epoch,
      valDice: trained.valDice,
      valIou: bestRecord?.valIou ?? null,
      pixelAccuracy: bestRecord?.pixelAccuracy ?? null,
      perClass: (bestRecord?.perClass ?? []).map(({ name, dice, iou }) => ({ name, dice, iou })),
    },
    training: {
      preset: run.config.preset,
      model: trained.model,
      epochsPlanned: settings.epochs,
      epochsDone: run.epochsDone,
      state: run.state,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
      optimizer: settings.optimizer,
      weightDecay: settings.weightDecay,
      schedule: settings.schedule,
      patchSize: settings.patchSize,
      augmentation: settings.augmentation,
      classWeights: settings.classWeights,
      validationPercent: settings.validationPercent,
      trainImages: run.trainImages,
      valImages: run.valImages,
      backend: run.backend?.name ?? null,
      startedAt: run.startedAt,
    },
    limitations: [
      `Trained on ${run.trainImages} images of one project (${run.valImages} more for validation); on images from other instruments, stains, magnifications or preparations it may do much worse, so check a sample by eye first.`,
      'The validation Dice comes from the run\'s own validation split at training resolution (mean over the foreground classes), not from an independent test set.',
      'Inputs must be normalised and sized exactly as described; other scaling (for example mean/std standardisation) silently degrades the masks.',
      `Height and width must be multiples of ${UNET_SIZE_MULTIPLE}; pad and crop as described.`,
      ...(binary ? ['The 0.5 threshold is a default, not calibrated; probabilities are not calibrated either.'] : []),
    ],
  };
}

/** The facts as U-Net Studio-specific ONNX metadata_props (string values; JSON where structured). */
export function onnxMetadata(card: ModelCard): Record<string, string> {
  return {
    classes: JSON.stringify(card.classes),
    input_channels: String(card.input.channels),
    input_layout: card.input.layout,
    size_multiple: String(card.input.sizeMultiple),
    normalisation: card.input.normalisation,
    sizing: JSON.stringify(card.input.sizing),
    output_activation: card.output.activation,
    best_epoch: String(card.metrics.bestEpoch),
    val_dice: JSON.stringify(card.metrics.valDice),
    run_id: card.runId,
    app_version: card.appVersion,
  };
}

function sizingRule(sizing: InputSizing): string {
  const back = 'resize the probabilities back to the image size (bilinear, pixel centres aligned) before the threshold or argmax';
  if (sizing.mode === 'size') return `Resize every image to ${sizing.width} x ${sizing.height} (bilinear, pixel centres aligned) before the model; ${back}.`;
  if (sizing.scale === 1) return 'Images are used at their own size.';
  return `Resize images by the factor ${sizing.scale} (bilinear, pixel centres aligned, the size rounded) before the model; ${back}.`;
}

export function renderModelCard(card: ModelCard): string {
  const metric = (value: number | null) => (value === null ? 'n/a' : value.toFixed(4));
  const lines = [
    `# ${card.name}`,
    '',
    card.description,
    '',
    `Format: ${FORMAT_NAMES[card.format]} — ${card.files.map((file) => `\`${file}\``).join(', ')}. ` +
      `Exported by U-Net Studio ${card.appVersion} on ${card.exportedAt}.`,
    '',
    '## Classes',
    '',
    '| id | name | colour |',
    '|---|---|---|',
    ...card.classes.map((entry) => `| ${entry.id} | ${entry.name} | \`${entry.colour}\` |`),
    '',
    '## Input',
    '',
    `- \`${card.input.name}\`: float32, ${card.input.layout === 'NCHW' ? '[batch, channels, height, width]' : '[batch, height, width, channels]'}, ${card.input.channels} channel${card.input.channels === 1 ? '' : 's'}; batch, height and width may vary.`,
    `- Normalisation: ${card.input.normalisation}`,
    `- Channels: ${card.input.channelRule}`,
    `- Size: ${card.input.sizingRule}`,
    `- Padding: ${card.input.padding}`,
    '',
    '## Output',
    '',
    ...[card.output.logits, card.output.probabilities].flatMap((name) =>
      name === null
        ? []
        : [
            `- \`${name}\`: float32, ${card.output.layout === 'NCHW' ? '[batch, channels, height, width]' : '[batch, height, width, channels]'}, ${card.output.channels} channel${card.output.channels === 1 ? '' : 's'}, same height and width as the input${name === card.output.probabilities ? `; the ${card.output.activation} of the logits` : ''}.`,
          ],
    ),
    `- ${card.output.decoding}`,
    '',
    '## How to run it',
    '',
    ...usage(card),
    '',
    '## Validation',
    '',
    `The figures below come from the run's validation split (${card.training.valImages} images held out of training, at training resolution, pixels labelled 255 excluded), at the best epoch by mean foreground Dice. ` +
      'To validate on unseen data, segment images that were not in the project with the same preprocessing (for example `unet-studio segment --model <this model> --input <images> --output <folder>`), and compare the masks with your own annotations: Dice and IoU per class, background excluded from the mean.',
    '',
    `- Best epoch: ${card.metrics.bestEpoch} of ${card.training.epochsDone} trained (${card.training.epochsPlanned} planned, run ${card.training.state})`,
    `- Mean foreground Dice: ${metric(card.metrics.valDice)}; IoU: ${metric(card.metrics.valIou)}; pixel accuracy: ${metric(card.metrics.pixelAccuracy)}`,
    ...(card.metrics.perClass.length
      ? ['', '| class | Dice | IoU |', '|---|---|---|', ...card.metrics.perClass.map((entry) => `| ${entry.name} | ${metric(entry.dice)} | ${metric(entry.iou)} |`)]
      : []),
    '',
    '## Training settings',
    '',
    `- Model: U-Net, base ${card.training.model.base}, ${card.training.model.upsampling} up-sampling, ${card.training.model.inputChannels} input channel(s), ${card.training.model.classes} classes`,
    `- Images: ${card.training.trainImages} for training, ${card.training.valImages} for validation (${card.training.validationPercent}%)`,
    `- Preset ${card.training.preset}; ${card.training.optimizer}, learning rate ${card.training.learningRate}, weight decay ${card.training.weightDecay}, ${card.training.schedule} schedule; batch size ${card.training.batchSize}; ${card.training.patchSize === null ? 'whole images' : `${card.training.patchSize}-pixel patches`}`,
    `- Class weights: ${card.training.classWeights === null ? 'equal' : card.training.classWeights.join(', ')}; augmentation: ${JSON.stringify(card.training.augmentation)}`,
    `- Backend: ${card.training.backend ?? 'unknown'}; started ${card.training.startedAt}; run \`${card.runId}\` of project "${card.project}"`,
    '',
    '## Limitations',
    '',
    ...card.limitations.map((line) => `- ${line}`),
    '',
  ];
  return lines.join('\n');
}

const FORMAT_NAMES: Record<ModelExportFormat, string> = {
  onnx: 'ONNX (opset 17)',
  tfjs: 'TensorFlow.js layers model',
  bioimageio: 'bioimage.io model package (model description format 0.5, ONNX weights)',
  triton: 'Triton Inference Server model repository (onnxruntime backend, ONNX opset 17)',
};

function usage(card: ModelCard): string[] {
  switch (card.format) {
    case 'onnx':
      return onnxUsage(card, card.files[0]!);
    case 'tfjs':
      return tfjsUsage(card);
    case 'bioimageio':
      return [
        'Open the .zip in a bioimage.io consumer: ilastik (Neural Network Classification), deepImageJ 3 in Fiji, QuPath (bioimage.io extension), or the `bioimageio.core` Python package (`bioimageio test <package>.zip` recomputes the test tensors). ' +
          'They apply the preprocessing that `rdf.yaml` declares (the normalisation above, as the specification\'s own operations) and give the `probabilities` output.',
        '',
        'The ONNX file inside (`model.onnx`) also runs directly:',
        '',
        ...onnxUsage(card, 'model.onnx'),
      ];
    case 'triton':
      return [
        'Serve the repository with Triton (`tritonserver --model-repository <folder above this one>`); requests carry `image` as FP32 [batch, channels, height, width] and get the outputs above. ' +
          'The ONNX file (`1/model.onnx`) also runs directly:',
        '',
        ...onnxUsage(card, '1/model.onnx'),
      ];
  }
}

function onnxUsage(card: ModelCard, file: string): string[] {
  const facts: SnippetFacts = {
    file,
    channels: card.input.channels,
    sizeMultiple: card.input.sizeMultiple,
    sizing: card.input.sizing,
    output: (card.output.probabilities ?? card.output.logits)!,
    outputIsProbabilities: card.output.probabilities !== null,
    outputChannels: card.output.channels,
    foreground: card.classes[1]?.name ?? 'foreground',
  };
  return [
    'These programs segment one image (`image.png`, or the first argument) into a label PNG (`mask.png`, or the second) exactly as `unet-studio segment` does: ' +
      'reading, normalisation, channels, sizing, padding, probabilities resized back, threshold or argmax. (`segment` runs images over 512 model pixels in blended tiles; these run the whole image at once, which differs only near tile seams.)',
    '',
    'Python (`pip install onnxruntime numpy pillow`):',
    '',
    '```python',
    ...pythonSnippet(facts),
    '```',
    '',
    'Node.js (`npm install onnxruntime-node sharp`; save as a `.mjs` file):',
    '',
    '```js',
    ...nodeSnippet(facts),
    '```',
  ];
}

function tfjsUsage(card: ModelCard): string[] {
  return [
    'TensorFlow.js (`npm install @tensorflow/tfjs`; save as a `.mjs` file in this folder). It loads the model with plain TensorFlow.js and runs it on a blank image; prepare real images as the ONNX export\'s model card shows, in NHWC order:',
    '',
    '```js',
    ...tfjsSnippet(card.input.channels, card.input.sizeMultiple, card.output.channels),
    '```',
  ];
}
