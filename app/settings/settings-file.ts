import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../files/atomic-write.js';
import { makeFolder } from '../files/make-folder.js';
import { describeReadError } from '../files/file-errors.js';

/**
 * One small JSON settings file in the user-data folder (recent projects, window bounds), written
 * atomically. A missing file gives the fallback; a damaged or unreadable one too, with a warning
 * that names the file and the problem (the settings are a convenience, never a reason to fail).
 */
export class SettingsFile<T> {
  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly fallback: T,
    private readonly warn: (message: string) => void = (message) => console.warn(message),
  ) {}

  async read(): Promise<T> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(`${describeReadError(this.file, err).message}; using the defaults.`);
      return this.fallback;
    }
    const parsed = this.schema.safeParse(parseJson(text));
    if (parsed.success) return parsed.data;
    this.warn(`${this.file} is damaged (${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}); using the defaults.`);
    return this.fallback;
  }

  async write(value: T): Promise<void> {
    await makeFolder(path.dirname(this.file));
    await writeFileAtomic(this.file, `${JSON.stringify(value, null, 2)}\n`);
  }
}

/** JSON that does not parse becomes undefined, which no settings schema accepts. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
