import type { ParseArgsConfig } from 'node:util';

export interface CommandContext {
  json: boolean;
  /** Human-readable output (stdout). */
  print(line: string): void;
  /** Warnings and problems (stderr). */
  warn(line: string): void;
  signal: AbortSignal;
}

export interface CommandResult {
  exitCode: number;
  /** The one machine-readable result printed with --json. */
  json: unknown;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[], context: CommandContext): Promise<CommandResult>;
}
