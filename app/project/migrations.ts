import { AppError } from '../contract/errors.js';
import { CURRENT_SCHEMA_VERSION } from './project-schema.js';

/** Upgrades project.json data from schema version `from` to `from + 1`. */
export interface Migration {
  from: number;
  migrate(data: Record<string, unknown>): Record<string, unknown>;
}

/** One entry per schema change, oldest first. Schema 1 is the first released format. */
export const MIGRATIONS: readonly Migration[] = [];

/**
 * Brings raw project data up to the current schema, one version at a time. Refuses files written by a
 * newer app instead of guessing, so an older app can never silently drop fields it does not know.
 */
export function migrateProjectData(
  file: string,
  raw: unknown,
  migrations: readonly Migration[] = MIGRATIONS,
  target = CURRENT_SCHEMA_VERSION,
): { data: unknown; migratedFrom: number | null } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { data: raw, migratedFrom: null };
  let data = raw as Record<string, unknown>;
  const start = data.schemaVersion;
  if (typeof start !== 'number' || !Number.isInteger(start)) return { data, migratedFrom: null };
  if (start > target) {
    throw new AppError(
      'invalid_project',
      `${file} was written by a newer U-Net Studio (schema ${start}; this version reads up to ${target}). Update the app to open it.`,
      { file, schemaVersion: start },
    );
  }
  for (let version = start; version < target; version++) {
    const step = migrations.find((migration) => migration.from === version);
    if (!step) throw new AppError('invalid_project', `${file}: no migration from schema ${version}.`, { file });
    data = { ...step.migrate(data), schemaVersion: version + 1 };
  }
  return { data, migratedFrom: start === target ? null : start };
}
