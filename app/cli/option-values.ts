import { UsageError } from './cli-error.js';

/** Typed readers over parseArgs values; a bad value becomes a UsageError that names its flag. */
export function optionReader(values: Record<string, unknown>) {
  const text = (name: string) => values[name] as string | undefined;
  const number = (name: string) => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, not "${value}".`);
    return parsed;
  };
  const choice = <T extends string>(name: string, options: readonly T[]): T | undefined => {
    const value = text(name);
    if (value !== undefined && !options.includes(value as T)) throw new UsageError(`--${name} must be one of ${options.join(', ')}.`);
    return value as T | undefined;
  };
  /** `--scale X` or `--size WxH` as a sizing (checked against InputSizing by the caller's schema). */
  const sizing = () => {
    if (text('scale') !== undefined && text('size') !== undefined) throw new UsageError('Use either --scale or --size, not both.');
    const size = text('size');
    if (size !== undefined) {
      const match = /^(\d+)x(\d+)$/.exec(size);
      if (!match) throw new UsageError('--size must be WIDTHxHEIGHT, e.g. 256x256.');
      return { mode: 'size' as const, width: Number(match[1]), height: Number(match[2]) };
    }
    const scale = number('scale');
    return scale === undefined ? undefined : { mode: 'scale' as const, scale };
  };
  return { text, number, choice, sizing };
}

/** A required whole number within [min, max]; `flag` is how the message names it (e.g. "--count"). */
export function wholeNumber(value: unknown, flag: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}.`);
  return number;
}
