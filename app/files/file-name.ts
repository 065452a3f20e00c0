/**
 * File names that are not valid UTF-8 (Linux allows any bytes; old Latin-1 archives have them). Node
 * would turn their bytes into U+FFFD and then not find the file, so listings decode them the way
 * Python's "surrogateescape" does: each byte that is not UTF-8 becomes the lone surrogate U+DC80+byte.
 * Such a name is a plain string everywhere (matching, messages, output names) and becomes the exact
 * bytes again, through `fsPath`, wherever the file is opened.
 */
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;

/** A name from a listing (Buffer) as a string; bytes that are not UTF-8 are escaped as lone surrogates. */
export function decodeFileName(raw: Buffer): string {
  const text = raw.toString('utf8');
  if (!text.includes('\uFFFD') || Buffer.from(text, 'utf8').equals(raw)) return text;
  let decoded = '';
  for (let at = 0; at < raw.length; ) {
    const length = utf8SequenceLength(raw, at);
    if (length > 0) {
      decoded += raw.toString('utf8', at, at + length);
      at += length;
    } else {
      decoded += String.fromCharCode(0xdc00 + raw[at]!);
      at += 1;
    }
  }
  return decoded;
}

/** True for names that carry escaped bytes (and so must be opened through `fsPath`). */
export function hasEscapedBytes(file: string): boolean {
  return ESCAPED_BYTE.test(file);
}

/** The name for people and project.json: escaped bytes shown as U+FFFD. */
export function displayName(file: string): string {
  return file.replace(new RegExp(ESCAPED_BYTE.source, 'g'), '\uFFFD');
}

/** The path to give to fs calls: the string itself, or for escaped names the exact original bytes. */
export function fsPath(file: string): string | Buffer {
  if (!hasEscapedBytes(file)) return file;
  const parts: Buffer[] = [];
  let run = '';
  for (const char of file) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([code - 0xdc00]));
      run = '';
    } else {
      run += char;
    }
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** Length of the valid UTF-8 sequence starting at `at`, or 0 when the byte there starts none. */
function utf8SequenceLength(bytes: Buffer, at: number): number {
  const first = bytes[at]!;
  const length = first < 0x80 ? 1 : first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (length === 0 || at + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) if ((bytes[at + i]! & 0xc0) !== 0x80) return 0;
  // Overlong forms and surrogates are not valid either; Node's decoder agrees with this test.
  return Buffer.from(bytes.toString('utf8', at, at + length), 'utf8').equals(bytes.subarray(at, at + length)) ? length : 0;
}
