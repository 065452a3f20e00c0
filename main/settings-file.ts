import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../app/files/atomic-write.js';
import { makeFolder } from '../app/files/make-folder.js';

/**
 * One small JSON settings file in the user-data folder (recent projects, window bounds), read
 * leniently (missing or damaged: the fallback) and written atomically.
 */
export class SettingsFile<T> {
  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly fallback: T,
  ) {}

  async read(): Promise<T> {
    try {
      const parsed = this.schema.safeParse(JSON.parse(await fs.readFile(this.file, 'utf8')));
      return parsed.success ? parsed.data : this.fallback;
    } catch {
      return this.fallback;
    }
  }

  async write(value: T): Promise<void> {
    await makeFolder(path.dirname(this.file));
    await writeFileAtomic(this.file, `${JSON.stringify(value, null, 2)}\n`);
  }
}
