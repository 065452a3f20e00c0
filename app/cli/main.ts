import { parseArgs } from 'node:util';
import { toContractError } from '../contract/errors.js';
import { describeFileError } from '../files/file-errors.js';
import { EXIT, UsageError } from './cli-error.js';
import type { Command, CommandContext } from './command.js';
import { demoCommand } from './commands/demo.js';
import { exportDatasetCommand } from './commands/export-dataset.js';
import { exportModelCommand } from './commands/export-model.js';
import { importCommand } from './commands/import.js';
import { infoCommand } from './commands/info.js';
import { initCommand } from './commands/init.js';
import { serveCommand } from './commands/serve.js';
import { importModelCommand } from './commands/import-model.js';
import { segmentCommand } from './commands/segment.js';
import { trainCommand } from './commands/train.js';

const COMMANDS: readonly Command[] = [initCommand, importCommand, infoCommand, exportDatasetCommand, trainCommand, exportModelCommand, segmentCommand, importModelCommand, serveCommand, demoCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'U-Net Studio: train U-Net segmentation models on your own images.',
    '',
    'Usage: unet-studio <command> [options]   (every command takes --json and --help)',
    '',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
  ].join('\n');
}

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(argv: readonly string[], signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${overview()}\n`);
    return EXIT.usage;
  }
  let json = false;
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...command.options, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: true,
      strict: true,
    });
    json = Boolean(values.json);
    if (values.help) {
      process.stdout.write(`${command.usage}\n`);
      return EXIT.ok;
    }
    const context: CommandContext = {
      json,
      print: (line) => {
        if (!json) process.stdout.write(`${line}\n`);
      },
      warn: (line) => process.stderr.write(`${line}\n`),
      signal,
    };
    const result = await command.run(values, positionals, context);
    if (json && result.json !== null) process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
    return result.exitCode;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\nUsage: ${command.usage}\n`);
      return EXIT.usage;
    }
    const error = toContractError(describeFileError(err));
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT.failed;
  }
}

/** Entry point for bin/unet-studio.js: the first Ctrl+C cancels the work cleanly, a second one exits. */
export async function main(): Promise<void> {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  });
  process.exitCode = await runCli(process.argv.slice(2), controller.signal);
}
