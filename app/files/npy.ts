/**
 * NumPy's .npy format, version 1.0 (numpy.lib.format): the magic string, a little-endian header
 * length, a Python-literal header dict padded with spaces to a multiple of 64 bytes and ending in a
 * newline, then the C-order data. bioimage.io test tensors and the PyTorch benches exchange arrays so.
 */

export type NpyArray = Uint8Array | Uint16Array | Float32Array;

const DESCRIPTORS = new Map<string, string>([
  ['Uint8Array', '|u1'],
  ['Uint16Array', '<u2'],
  ['Float32Array', '<f4'],
]);

export function encodeNpy(data: NpyArray, shape: readonly number[]): Buffer {
  const count = shape.reduce((product, size) => product * size, 1);
  if (count !== data.length) throw new Error(`.npy: shape [${shape.join(', ')}] holds ${count} values, the data has ${data.length}`);
  const descriptor = DESCRIPTORS.get(data.constructor.name)!;
  let header = `{'descr': '${descriptor}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  // Typed arrays use the platform's byte order, little-endian on x64 and arm64 (the platforms U-Net Studio ships for).
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
