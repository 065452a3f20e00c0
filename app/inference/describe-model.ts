import path from 'node:path';
import ort from 'onnxruntime-node';
import { z } from 'zod';
import { AppError } from '../contract/errors.js';
import { ClassDef } from '../contract/schemas.js';
import { type ModelDescription, Normalisation, type ResizeRule } from '../contract/segmentation.js';
import { InputSizing } from '../contract/training.js';
import { decodeOnnxModel } from '../export/onnx/onnx-schema.js';
import { NORMALISATION_RULE } from '../imaging/normalise.js';
import { defaultClassColour } from '../project/class-colours.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';

/** What the user (or a sidecar file) says about a model that its own metadata may not. */
export interface ModelHints {
  name?: string;
  runId?: string | null;
  /** Foreground class names (background is class 0), or full class definitions. */
  classes?: readonly string[] | readonly ClassDef[];
  normalisation?: Normalisation;
  sizing?: InputSizing;
  resize?: ResizeRule;
}

/** U-Net Studio's exporter writes classes with `colour`; other tools may write `color`. */
const MetadataClasses = z.array(z.object({ id: z.number().int(), name: z.string(), colour: z.string().optional(), color: z.string().optional() }));

const DUMMY_SIZE = 64;

/**
 * Size multiples a model with dynamic height and width is tried at, smallest first, each on an image
 * whose sides are odd multiples of it (so a model that needs twice the multiple fails there).
 */
const PROBED_MULTIPLES = [1, 2, 4, 8, 16, 32];

/**
 * Reads an ONNX segmentation model's facts: input/output names and shapes from onnxruntime, U-Net
 * Studio's metadata_props (classes, input_channels, normalisation, sizing, size_multiple) from the
 * file, then checks it with a dummy image (the right channels, 64x64 or the model's fixed size) to
 * learn whether it gives 1 logit (binary) or K. A model with dynamic size and no size_multiple is
 * probed for the smallest multiple it takes, so images are padded only as far as it needs. What is
 * still unknown must come from `hints`; otherwise the error lists every missing fact and the flag
 * that supplies it.
 */
export async function describeOnnxModel(file: string, session: ort.InferenceSession, hints: ModelHints = {}): Promise<ModelDescription> {
  const metadata = await readMetadataProps(file);
  const input = session.inputMetadata.find((entry) => entry.name === 'image') ?? session.inputMetadata[0];
  if (!input || !input.isTensor || input.shape.length !== 4) {
    throw new AppError('invalid_input', `${file}: expected one image input shaped [batch, channels, height, width]; found ${describeValues(session.inputMetadata)}.`);
  }
  if (input.type !== 'float32') throw new AppError('invalid_input', `${file}: input "${input.name}" is ${input.type}; only float32 inputs are supported.`);
  const outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames.find((name) => name !== 'probabilities') ?? session.outputNames[0]!;
  const channelDim = input.shape[1];
  const metadataChannels = metadata.input_channels ? Number(metadata.input_channels) : undefined;
  const inputChannels = typeof channelDim === 'number' ? channelDim : metadataChannels;
  if (inputChannels !== 1 && inputChannels !== 3) {
    throw new AppError('invalid_input', `${file}: input "${input.name}" has ${inputChannels ?? 'an unknown number of'} channels; 1 (grey) or 3 (RGB) are supported.`);
  }
  const [height, width] = [input.shape[2], input.shape[3]];
  const fixedSize = typeof height === 'number' && typeof width === 'number' ? { width, height } : null;
  if (fixedSize && !InputSizing.safeParse({ mode: 'size', ...fixedSize }).success) {
    throw new AppError('invalid_input', `${file}: its input is fixed at ${width}x${height} pixels; U-Net Studio runs models whose inputs are 16x16 to 8192x8192 pixels (or of any size).`, { file, ...fixedSize });
  }
  const outputChannels = await dummyRun(file, session, input.name, outputName, inputChannels, fixedSize);
  const sizeMultiple = fixedSize ? 1 : metadata.size_multiple ? Number(metadata.size_multiple) : await probeSizeMultiple(session, input.name, outputName, inputChannels);

  const missing: string[] = [];
  const classes = resolveClasses(metadata, hints, outputChannels, file, missing);
  const normalisation = metadataNormalisation(metadata.normalisation) ?? hints.normalisation;
  if (!normalisation) missing.push(`the input normalisation (--normalisation ${Normalisation.options.join('|')}; unit = intensities in [0, 1], as U-Net Studio and the reference PyTorch tools train)`);
  if (missing.length) throw new AppError('invalid_input', `${file}: the model does not say ${missing.join(', nor ')}.`, { missing });

  const sizing = metadata.sizing ? InputSizing.parse(JSON.parse(metadata.sizing)) : hints.sizing ?? (fixedSize ? { mode: 'size' as const, ...fixedSize } : { mode: 'scale' as const, scale: 1 });
  return {
    name: hints.name ?? path.basename(file, '.onnx'),
    file,
    source: metadata.classes ? 'studio' : 'external',
    runId: metadata.run_id ?? hints.runId ?? null,
    inputName: input.name,
    outputName,
    inputChannels,
    outputChannels,
    classes,
    normalisation: normalisation!,
    sizing,
    resize: hints.resize ?? 'studio',
    fixedSize,
    sizeMultiple,
  };
}

/** metadata_props of an .onnx file (onnxruntime-node does not expose them), read with the exporter's ONNX schema. */
export async function readMetadataProps(file: string): Promise<Record<string, string>> {
  const bytes = await readRegularFile(file, DATA_FILE);
  let props: { key: string; value: string }[];
  try {
    props = decodeOnnxModel(bytes).metadata_props ?? [];
  } catch (err) {
    throw new AppError('invalid_input', `${file}: not an ONNX model (${err instanceof Error ? err.message : String(err)}).`);
  }
  return Object.fromEntries(props.map((prop) => [prop.key, prop.value]));
}

async function dummyRun(file: string, session: ort.InferenceSession, inputName: string, outputName: string, channels: number, fixedSize: { width: number; height: number } | null): Promise<number> {
  const height = fixedSize?.height ?? DUMMY_SIZE;
  const width = fixedSize?.width ?? DUMMY_SIZE;
  let output: ort.Tensor;
  try {
    const results = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(channels * height * width), [1, channels, height, width]) }, [outputName]);
    output = results[outputName]!;
  } catch (err) {
    throw new AppError('invalid_input', `${file}: a test run on a ${width}x${height} ${channels}-channel image failed (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}).`);
  }
  const dims = output.dims;
  if (dims.length !== 4 || dims[0] !== 1 || dims[2] !== height || dims[3] !== width) {
    throw new AppError('invalid_input', `${file}: output "${outputName}" is [${dims.join(', ')}] for a [1, ${channels}, ${height}, ${width}] input; a segmentation model must keep the size ([1, classes, ${height}, ${width}]).`);
  }
  return dims[1]!;
}

/** The smallest of PROBED_MULTIPLES at which the model runs and keeps the size; 64 (the dummy run's size) if none. */
async function probeSizeMultiple(session: ort.InferenceSession, inputName: string, outputName: string, channels: number): Promise<number> {
  for (const multiple of PROBED_MULTIPLES) {
    // Odd multiples of `multiple`, near 48 pixels and different from each other (so rows and columns are not confused).
    const odd = Math.max(1, Math.ceil(48 / multiple) | 1);
    const [height, width] = [multiple * odd, multiple * (odd + 2)];
    const fits = await session
      .run({ [inputName]: new ort.Tensor('float32', new Float32Array(channels * height * width), [1, channels, height, width]) }, [outputName])
      .then((results) => {
        const dims = results[outputName]!.dims;
        return dims[2] === height && dims[3] === width;
      })
      // A failed run is this probe's answer (the model needs a larger multiple), not an error.
      .catch(() => false);
    if (fits) return multiple;
  }
  return DUMMY_SIZE;
}

function resolveClasses(metadata: Record<string, string>, hints: ModelHints, outputChannels: number, file: string, missing: string[]): ClassDef[] {
  const expected = outputChannels === 1 ? 2 : outputChannels;
  let classes: ClassDef[] | null = null;
  if (metadata.classes) {
    const parsed = MetadataClasses.safeParse(JSON.parse(metadata.classes));
    if (parsed.success) classes = parsed.data.map((entry) => ({ id: entry.id, name: entry.name, color: entry.colour ?? entry.color ?? defaultClassColour(entry.id) }));
  }
  if (!classes && hints.classes) {
    classes = hints.classes.every((entry) => typeof entry === 'string')
      ? ['background', ...(hints.classes as readonly string[])].map((name, id) => ({ id, name, color: defaultClassColour(id) }))
      : (hints.classes as readonly ClassDef[]).map((entry) => ({ ...entry }));
  }
  if (!classes) {
    missing.push(`its class names (--classes with ${expected - 1} name${expected > 2 ? 's' : ''}: the model gives ${outputChannels === 1 ? '1 output channel, a binary model' : `${outputChannels} output channels, class 0 being background`})`);
    return [];
  }
  if (classes.length !== expected) {
    throw new AppError('invalid_input', `${file}: the model gives ${outputChannels} output channel${outputChannels === 1 ? ' (binary: background + 1 class)' : 's'}, but ${classes.length} classes (background included) were given: ${classes.map((entry) => entry.name).join(', ')}.`);
  }
  return z.array(ClassDef).parse(classes);
}

/** U-Net Studio's exporter writes the rule as text (NORMALISATION_RULE); other values may name an option. */
function metadataNormalisation(value: string | undefined): Normalisation | undefined {
  if (value === NORMALISATION_RULE) return 'unit';
  const named = Normalisation.safeParse(value);
  return named.success ? named.data : undefined;
}

function describeValues(values: readonly ort.InferenceSession.ValueMetadata[]): string {
  return values.map((value) => `${value.name}${value.isTensor ? ` [${value.shape.join(', ')}]` : ''}`).join(', ') || 'no inputs';
}
