import type { InputSizing } from '../contract/training.js';

/**
 * The model card's code: whole programs (Python with onnxruntime, Node with onnxruntime-node) that
 * segment one image exactly as `unet-studio segment` does, and a TF.js loader. Each step is
 * U-Net Studio's own rule, spelled out: the stored values read without colour management, the
 * normalisation rule (8-bit /255; 16-bit stretched between its 0.1th and 99.9th percentile, nearest
 * rank, over the colour channels), luma or repeated grey for the model's channels, the sizing
 * (rounded size, bilinear with pixel centres aligned), zero padding at the bottom and right to the
 * size multiple, the probabilities cropped and resized back to the image (bilinear), then the
 * threshold or the argmax. `segment` runs images larger than 512 model pixels in blended tiles; these
 * programs run the whole image at once, which differs from it only near tile seams.
 */
export interface SnippetFacts {
  /** The .onnx file, relative to where the program runs. */
  file: string;
  channels: 1 | 3;
  sizeMultiple: number;
  sizing: InputSizing;
  /** The output to read: `probabilities` when the file has it, else `logits`. */
  output: string;
  outputIsProbabilities: boolean;
  /** Output channels: 1 = binary (sigmoid of one logit), K = K classes (softmax). */
  outputChannels: number;
  foreground: string;
}

const THRESHOLD = 0.5;

function resizes(sizing: InputSizing): boolean {
  return !(sizing.mode === 'scale' && sizing.scale === 1);
}

export function pythonSnippet(facts: SnippetFacts): string[] {
  const { sizing } = facts;
  const binary = facts.outputChannels === 1;
  const sizedLine =
    sizing.mode === 'size'
      ? `sized_h, sized_w = ${sizing.height}, ${sizing.width}  # the model's training size`
      : `sized_h, sized_w = max(1, int(h * ${sizing.scale} + 0.5)), max(1, int(w * ${sizing.scale} + 0.5))  # scaled by ${sizing.scale}, rounded`;
  return [
    'import sys',
    '',
    'import numpy as np',
    'import onnxruntime as ort',
    'from PIL import Image',
    '',
    '',
    'def normalise(values, bits):',
    '    """8-bit: value/255; 16-bit: stretched from the 0.1th to the 99.9th percentile (nearest rank) to [0, 1], clipped."""',
    '    if bits == 8:',
    '        return (values * (1.0 / 255)).astype(np.float32)',
    '    ranked = np.sort(values, axis=None)',
    '    low, high = (int(ranked[int(np.floor(p * (ranked.size - 1) + 0.5))]) for p in (0.001, 0.999))',
    '    if low == high:',
    '        low, high = 0, 65535',
    '    return np.clip((values - low) * (1.0 / (high - low)), 0, 1).astype(np.float32)',
    '',
    ...(resizes(sizing)
      ? [
          '',
          'def resize(a, height, width):',
          '    """Bilinear resize of (H, W, C) with pixel centres aligned and edges clamped."""',
          '    def taps(size, out):',
          '        at = np.clip((np.arange(out) + 0.5) * (size / out) - 0.5, 0, size - 1)',
          '        low = np.floor(at).astype(int)',
          '        return low, np.minimum(low + 1, size - 1), at - low',
          '    y0, y1, wy = taps(a.shape[0], height)',
          '    x0, x1, wx = taps(a.shape[1], width)',
          '    wx, wy = wx[None, :, None], wy[:, None, None]',
          '    a = a.astype(np.float64)',
          '    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx',
          '    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx',
          '    return (top * (1 - wy) + bottom * wy).astype(np.float32)',
          '',
        ]
      : []),
    '',
    'source = sys.argv[1] if len(sys.argv) > 1 else "image.png"',
    'target = sys.argv[2] if len(sys.argv) > 2 else "mask.png"',
    'image = Image.open(source)',
    'if image.mode in ("1", "P"):',
    '    image = image.convert("RGBA" if "transparency" in image.info else ("L" if image.mode == "1" else "RGB"))',
    '# Stored values, as read (16-bit grey stays 16-bit; Pillow reads 16-bit colour as 8-bit: use tifffile for those).',
    'pixels = np.asarray(image)',
    'bits = 8 if pixels.dtype == np.uint8 else 16',
    'colour = pixels if pixels.ndim == 2 else pixels[..., :1] if pixels.shape[2] < 3 else pixels[..., :3]  # alpha dropped',
    'x = normalise(colour.astype(np.float64), bits)',
    'x = x.reshape(x.shape[0], x.shape[1], -1)  # (H, W, channels)',
    facts.channels === 1
      ? 'if x.shape[2] == 3:  # luma for this grey model\n    x = (x.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))[..., None].astype(np.float32)'
      : 'if x.shape[2] == 1:  # grey repeated for this RGB model\n    x = np.repeat(x, 3, axis=2)',
    'h, w = x.shape[:2]',
    ...(resizes(sizing) ? [sizedLine, 'x = resize(x, sized_h, sized_w)'] : ['sized_h, sized_w = h, w']),
    `M = ${facts.sizeMultiple}  # pad with zeros at the bottom and right to multiples of M`,
    'x = np.pad(x.transpose(2, 0, 1)[None], ((0, 0), (0, 0), (0, -sized_h % M), (0, -sized_w % M)))',
    '',
    `session = ort.InferenceSession("${facts.file}")`,
    `(out,) = session.run(["${facts.output}"], {"image": x})`,
    `probabilities = out[0, :, :sized_h, :sized_w]  # (${binary ? '1' : 'classes'}, sized_h, sized_w)`,
    ...(facts.outputIsProbabilities
      ? []
      : binary
        ? ['probabilities = (1 / (1 + np.exp(-probabilities.astype(np.float64)))).astype(np.float32)  # sigmoid']
        : ['logits = probabilities.astype(np.float64)', 'probabilities = np.exp(logits - logits.max(0))', 'probabilities = (probabilities / probabilities.sum(0)).astype(np.float32)  # softmax']),
    ...(resizes(sizing) ? ['probabilities = resize(probabilities.transpose(1, 2, 0), h, w).transpose(2, 0, 1)  # back to the image size'] : []),
    binary ? `mask = (probabilities[0] > ${THRESHOLD}).astype(np.uint8)  # 1 = ${facts.foreground}` : 'mask = probabilities.argmax(0).astype(np.uint8)  # class ids',
    'Image.fromarray(mask).save(target)',
  ];
}

export function nodeSnippet(facts: SnippetFacts): string[] {
  const { sizing } = facts;
  const binary = facts.outputChannels === 1;
  const sizedLine =
    sizing.mode === 'size'
      ? `const [sizedW, sizedH] = [${sizing.width}, ${sizing.height}]; // the model's training size`
      : `const [sizedW, sizedH] = [Math.max(1, Math.round(width * ${sizing.scale})), Math.max(1, Math.round(height * ${sizing.scale}))]; // scaled by ${sizing.scale}, rounded`;
  return [
    "import * as ort from 'onnxruntime-node';",
    "import sharp from 'sharp';",
    '',
    "const [source = 'image.png', target = 'mask.png'] = process.argv.slice(2);",
    '',
    '// Stored values at their bit depth, without colour management; alpha is skipped below.',
    'const meta = await sharp(source).metadata();',
    "const bits = meta.depth === 'ushort' ? 16 : 8;",
    "const grey = meta.space === 'b-w' || meta.space === 'grey16';",
    'const { data, info } = await sharp(source, { ignoreIcc: true })',
    "  .toColourspace(grey ? (bits === 16 ? 'grey16' : 'b-w') : bits === 16 ? 'rgb16' : 'srgb')",
    "  .raw({ depth: bits === 16 ? 'ushort' : 'uchar' })",
    '  .toBuffer({ resolveWithObject: true });',
    'const samples = bits === 16 ? new Uint16Array(Uint8Array.from(data).buffer) : data; // copied: aligned for 16-bit reads',
    'const { width, height, channels: stride } = info;',
    'const colours = grey ? 1 : 3;',
    '',
    '// 8-bit: value/255; 16-bit: stretched from the 0.1th to the 99.9th percentile (nearest rank) to [0, 1], clipped.',
    'let [low, high] = [0, bits === 16 ? 65535 : 255];',
    'if (bits === 16) {',
    '  const histogram = new Uint32Array(65536);',
    '  let total = 0;',
    '  for (let i = 0; i < samples.length; i += stride) for (let c = 0; c < colours; c++, total++) histogram[samples[i + c]]++;',
    '  const at = (p) => {',
    '    const rank = Math.round(p * (total - 1));',
    '    for (let v = 0, seen = 0; v < 65536; v++) if ((seen += histogram[v]) > rank) return v;',
    '  };',
    '  [low, high] = at(0.001) === at(0.999) ? [0, 65535] : [at(0.001), at(0.999)];',
    '}',
    'const table = Float32Array.from({ length: bits === 16 ? 65536 : 256 }, (_, v) => Math.min(1, Math.max(0, (v - low) * (1 / (high - low)))));',
    `const C = ${facts.channels};`,
    'let image = new Float32Array(width * height * C); // interleaved, the model\'s channels',
    'for (let p = 0; p < width * height; p++) {',
    '  const v = [0, 1, 2].slice(0, colours).map((c) => table[samples[p * stride + c]]);',
    facts.channels === 1
      ? '  image[p] = colours === 3 ? 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2] : v[0]; // luma for this grey model'
      : '  for (let c = 0; c < 3; c++) image[p * 3 + c] = v[colours === 3 ? c : 0]; // grey repeated for this RGB model',
    '}',
    ...(resizes(sizing)
      ? [
          '',
          '/** Bilinear resize of interleaved values, pixel centres aligned, edges clamped. */',
          'function resize(values, w, h, k, outW, outH) {',
          '  const taps = (size, out, i) => {',
          '    const at = Math.min(Math.max((i + 0.5) * (size / out) - 0.5, 0), size - 1);',
          '    const lo = Math.floor(at);',
          '    return [lo, Math.min(lo + 1, size - 1), at - lo];',
          '  };',
          '  const out = new Float32Array(outW * outH * k);',
          '  for (let y = 0; y < outH; y++) {',
          '    const [y0, y1, wy] = taps(h, outH, y);',
          '    for (let x = 0; x < outW; x++) {',
          '      const [x0, x1, wx] = taps(w, outW, x);',
          '      for (let c = 0; c < k; c++) {',
          '        const top = values[(y0 * w + x0) * k + c] * (1 - wx) + values[(y0 * w + x1) * k + c] * wx;',
          '        const bottom = values[(y1 * w + x0) * k + c] * (1 - wx) + values[(y1 * w + x1) * k + c] * wx;',
          '        out[(y * outW + x) * k + c] = top * (1 - wy) + bottom * wy;',
          '      }',
          '    }',
          '  }',
          '  return out;',
          '}',
          '',
          sizedLine,
          'image = resize(image, width, height, C, sizedW, sizedH);',
        ]
      : ['const [sizedW, sizedH] = [width, height];']),
    '',
    `const M = ${facts.sizeMultiple}; // zeros pad the bottom and right to multiples of M`,
    'const [H, W] = [Math.ceil(sizedH / M) * M, Math.ceil(sizedW / M) * M];',
    'const input = new Float32Array(C * H * W);',
    'for (let y = 0; y < sizedH; y++) for (let x = 0; x < sizedW; x++) for (let c = 0; c < C; c++) input[(c * H + y) * W + x] = image[(y * sizedW + x) * C + c];',
    '',
    `const session = await ort.InferenceSession.create('${facts.file}');`,
    `const output = (await session.run({ image: new ort.Tensor('float32', input, [1, C, H, W]) }, ['${facts.output}'])).${facts.output};`,
    `const K = ${facts.outputChannels};`,
    'let probabilities = new Float32Array(sizedW * sizedH * K); // interleaved, cropped to the sized image',
    'for (let y = 0; y < sizedH; y++) for (let x = 0; x < sizedW; x++) for (let c = 0; c < K; c++) probabilities[(y * sizedW + x) * K + c] = output.data[(c * H + y) * W + x];',
    ...(facts.outputIsProbabilities
      ? []
      : binary
        ? ['probabilities = probabilities.map((logit) => 1 / (1 + Math.exp(-logit))); // sigmoid']
        : [
            'for (let p = 0; p < sizedW * sizedH; p++) { // softmax',
            '  const logits = probabilities.subarray(p * K, (p + 1) * K);',
            '  const max = Math.max(...logits);',
            '  const e = logits.map((l) => Math.exp(l - max));',
            '  const sum = e.reduce((a, b) => a + b, 0);',
            '  logits.set(e.map((v) => v / sum));',
            '}',
          ]),
    ...(resizes(sizing) ? ['probabilities = resize(probabilities, sizedW, sizedH, K, width, height); // back to the image size'] : []),
    'const mask = new Uint8Array(width * height);',
    'for (let p = 0; p < width * height; p++) {',
    binary
      ? `  mask[p] = probabilities[p] > ${THRESHOLD} ? 1 : 0; // 1 = ${facts.foreground}`
      : '  for (let c = 1; c < K; c++) if (probabilities[p * K + c] > probabilities[p * K + mask[p]]) mask[p] = c; // argmax: class ids',
    '}',
    "await sharp(mask, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toFile(target);",
  ];
}

export function tfjsSnippet(channels: 1 | 3, sizeMultiple: number, outputChannels: number): string[] {
  return [
    "import * as tf from '@tensorflow/tfjs';",
    "import { readFile } from 'node:fs/promises';",
    '',
    "// Plain @tensorflow/tfjs in Node has no file:// loader: hand it the files (in a browser: tf.loadLayersModel('https://…/model.json');",
    "// with @tensorflow/tfjs-node installed instead: tf.loadLayersModel('file://' + path to model.json)).",
    "const json = JSON.parse(await readFile('model.json', 'utf8'));",
    "const weights = await readFile('weights.bin');",
    'const model = await tf.loadLayersModel(',
    '  tf.io.fromMemory({',
    '    modelTopology: json.modelTopology,',
    '    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),',
    '    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),',
    '  }),',
    ');',
    '',
    `// input: the image prepared as in the ONNX programs (normalised, the model's channels, sized), NHWC [1, H, W, ${channels}],`,
    `// H and W padded with zeros to multiples of ${sizeMultiple}. Here a blank ${sizeMultiple * 4} x ${sizeMultiple * 4} image:`,
    `const input = tf.zeros([1, ${sizeMultiple * 4}, ${sizeMultiple * 4}, ${channels}]);`,
    'const logits = model.predict(input);',
    outputChannels === 1 ? 'const mask = tf.sigmoid(logits).greater(0.5).squeeze([0, 3]); // [H, W], 1 = foreground' : 'const mask = logits.argMax(-1).squeeze([0]); // [H, W] class ids',
    "console.log('mask', mask.shape.join('x'));",
  ];
}
