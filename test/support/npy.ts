import type { NpyArray } from '../../app/files/npy.js';

const TYPES: Record<string, (buffer: ArrayBuffer, offset: number, length: number) => NpyArray> = {
  '|u1': (buffer, offset, length) => new Uint8Array(buffer, offset, length),
  '<u2': (buffer, offset, length) => new Uint16Array(buffer, offset, length),
  '<f4': (buffer, offset, length) => new Float32Array(buffer, offset, length),
};

/** Reads a C-order .npy array (versions 1 to 3) of uint8, uint16 or float32, as NumPy writes them. */
export function decodeNpy(bytes: Uint8Array): { data: NpyArray; shape: number[]; descr: string } {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not a .npy file (no magic string)');
  const major = view[6]!;
  const headerLength = major === 1 ? view.readUInt16LE(8) : view.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = view.toString('latin1', start, start + headerLength);
  const descr = /'descr': '([^']+)'/.exec(header)?.[1] ?? '';
  if (/'fortran_order': True/.test(header)) throw new Error(`.npy in Fortran order: ${header}`);
  const make = TYPES[descr];
  if (!make) throw new Error(`.npy of type ${descr} is not read here`);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((product, size) => product * size, 1);
  // Copied so the typed array is aligned whatever the header length.
  const body = view.subarray(start + headerLength);
  const aligned = new Uint8Array(body.length);
  aligned.set(body);
  return { data: make(aligned.buffer, 0, count), shape, descr };
}
