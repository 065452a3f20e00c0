import { AppError } from '../contract/errors.js';
import { DATA_FILE, readRegularFile } from '../files/regular-file.js';

export type PaletteColour = [r: number, g: number, b: number];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const INDEXED_COLOUR_TYPE = 3;

/**
 * The PLTE colours of an indexed-colour PNG, read by walking the chunks without decoding pixels.
 * Returns null when the file is not a PNG, or is a PNG of another colour type (which may still carry
 * a suggested palette that says nothing about its pixels).
 */
export async function readPngPalette(file: string): Promise<PaletteColour[] | null> {
  const bytes = await readRegularFile(file, DATA_FILE);
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return null;

  let colourType: number | undefined;
  for (let offset = PNG_SIGNATURE.length; offset + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const dataStart = offset + 8;
    if (dataStart + length + 4 > bytes.length) throw corrupt(file, `${type} chunk runs past the end of the file`);
    if (type === 'IHDR') {
      if (length !== 13) throw corrupt(file, 'IHDR chunk has the wrong length');
      colourType = bytes[dataStart + 9];
      if (colourType !== INDEXED_COLOUR_TYPE) return null;
    } else if (type === 'PLTE') {
      if (colourType === undefined) throw corrupt(file, 'PLTE chunk comes before IHDR');
      if (length === 0 || length % 3 !== 0 || length > 256 * 3) throw corrupt(file, `PLTE chunk has invalid length ${length}`);
      const palette: PaletteColour[] = [];
      for (let i = dataStart; i < dataStart + length; i += 3) palette.push([bytes[i], bytes[i + 1], bytes[i + 2]]);
      return palette;
    } else if (type === 'IDAT' || type === 'IEND') {
      break; // PLTE must precede the image data
    }
    offset = dataStart + length + 4; // skip data and CRC
  }
  if (colourType === undefined) throw corrupt(file, 'no IHDR chunk');
  throw corrupt(file, 'indexed-colour PNG has no PLTE chunk');
}

function corrupt(file: string, problem: string): AppError {
  return new AppError('invalid_mask', `${file}: corrupt PNG (${problem})`, { file });
}
