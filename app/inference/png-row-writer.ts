import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32, createDeflate, type Deflate } from 'node:zlib';
import { describeWriteError } from '../files/file-errors.js';
import { makeFolder } from '../files/make-folder.js';
import { temporaryFile } from '../files/temp-files.js';

export interface PngFormat {
  width: number;
  height: number;
  /** 0 = grey, 2 = RGB. */
  colourType: 0 | 2;
  bitDepth: 8 | 16;
  /**
   * PNG row filter. 'up' (each byte minus the byte above) helps smooth images such as overlays and
   * probability maps; label and colour maps compress as well without one, and skipping it saves a
   * pass over every byte.
   */
  filter: 'none' | 'up';
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const FILTER_TYPE = { none: 0, up: 2 } as const;
const CHUNK_BYTES = 256 * 1024;

/**
 * Writes a PNG row by row, so a 12000 x 12000 output never exists whole in memory. Rows are deflated
 * on libuv's thread pool (overlapping with inference) into a temp file beside the target, which is
 * renamed over it on `commit`: a half-written file never carries the final name.
 */
export class PngRowWriter {
  private readonly deflate: Deflate;
  private readonly rowBytes: number;
  /** The last row's samples (the Up filter's reference) and a buffer for the next one. */
  private previous: Buffer;
  private current: Buffer;
  private chunk: Buffer;
  private chunkUsed = 0;
  private rows = 0;
  private writing: Promise<unknown> = Promise.resolve();
  private failure: unknown = null;

  private constructor(
    readonly file: string,
    private readonly temp: string,
    private readonly handle: fs.FileHandle,
    private readonly format: PngFormat,
  ) {
    const samples = format.colourType === 2 ? 3 : 1;
    this.rowBytes = (format.width * samples * format.bitDepth) / 8;
    this.previous = Buffer.alloc(this.rowBytes);
    this.current = Buffer.alloc(this.rowBytes);
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, this.rowBytes + 1));
    // Level 1: masks and overlays still compress well, and deflating at level 6 took CPU from inference.
    this.deflate = createDeflate({ level: 1 });
    this.deflate.on('data', (data: Buffer) => this.append(chunk('IDAT', data)));
    this.deflate.on('error', (err) => (this.failure ??= err));
  }

  static async create(file: string, format: PngFormat): Promise<PngRowWriter> {
    const temp = temporaryFile(file);
    let handle: fs.FileHandle;
    await makeFolder(path.dirname(file));
    try {
      handle = await fs.open(temp, 'wx');
    } catch (err) {
      throw describeWriteError(file, err);
    }
    const writer = new PngRowWriter(file, temp, handle, format);
    const header = Buffer.alloc(13);
    header.writeUInt32BE(format.width, 0);
    header.writeUInt32BE(format.height, 4);
    header[8] = format.bitDepth;
    header[9] = format.colourType;
    writer.append(Buffer.concat([SIGNATURE, chunk('IHDR', header)]));
    return writer;
  }

  /**
   * One row of samples: 8-bit as bytes, 16-bit as numbers (written big-endian). Rows are filtered
   * into a chunk that goes to deflate once it holds CHUNK_BYTES: one zlib call per row cost more
   * than the compression of a 512-pixel row. Waits when deflate is behind. The samples are copied
   * before this returns, so the caller may reuse its buffer for the next row.
   */
  async writeRow(samples: Uint8Array | Uint16Array): Promise<void> {
    if (this.failure) throw describeWriteError(this.file, this.failure);
    const row = this.current;
    if (samples instanceof Uint16Array) for (let i = 0; i < samples.length; i++) row.writeUInt16BE(samples[i]!, 2 * i);
    else row.set(samples);
    if (this.chunkUsed + this.rowBytes + 1 > this.chunk.length) await this.flush();
    const out = this.chunk;
    let at = this.chunkUsed;
    out[at++] = FILTER_TYPE[this.format.filter];
    const previous = this.previous;
    if (this.format.filter === 'up') for (let i = 0; i < this.rowBytes; i++) out[at++] = (row[i]! - previous[i]!) & 0xff;
    else at += row.copy(out, at);
    this.chunkUsed = at;
    this.current = previous;
    this.previous = row;
    this.rows += 1;
  }

  /** Hands the filtered rows gathered so far to deflate and starts a new chunk. */
  private async flush(): Promise<void> {
    if (this.chunkUsed === 0) return;
    const full = this.chunk.subarray(0, this.chunkUsed);
    this.chunk = Buffer.allocUnsafe(this.chunk.length);
    this.chunkUsed = 0;
    if (!this.deflate.write(full)) await new Promise((resolve) => this.deflate.once('drain', resolve));
    // Keep file writes from piling up in memory.
    await this.writing;
  }

  /** Finishes the PNG and moves it into place. */
  async commit(): Promise<void> {
    if (this.rows !== this.format.height) throw new Error(`${this.file}: ${this.rows} of ${this.format.height} rows written`);
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.deflate.once('end', resolve);
      this.deflate.once('error', reject);
      this.deflate.end();
    });
    this.append(chunk('IEND', Buffer.alloc(0)));
    try {
      await this.writing;
      if (this.failure) throw this.failure;
      await this.handle.sync();
      await this.handle.close();
      await fs.rename(this.temp, this.file);
    } catch (err) {
      await this.abort();
      throw describeWriteError(this.file, err);
    }
  }

  /** Drops the partial file (cancel or failure). */
  async abort(): Promise<void> {
    this.deflate.destroy();
    await this.writing.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.temp, { force: true }).catch(() => undefined);
  }

  private append(data: Buffer): void {
    this.writing = this.writing.then(() => (this.failure ? undefined : this.handle.write(data))).catch((err) => (this.failure ??= err));
  }
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
