import { describeBackend } from '../../contract/describe-backend.js';
import { BackendChoice, describeBatchPlan, OptimizerName, PresetName, TrainRequest } from '../../contract/training.js';
import { formatMinutes } from '../../engine/auto/auto-preset.js';
import { RunFolder } from '../../engine/runs/run-store.js';
import { prepareRun } from '../../engine/training/prepare-run.js';
import { runTrainer } from '../../engine/worker/trainer-host.js';
import { forkWorker } from '../../jobs/worker-process.js';
import { Project } from '../../project/project.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';
import { optionReader } from '../option-values.js';
import { ProgressBar } from '../progress-bar.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a U-Net on the project\'s labelled images (in a background process)',
  usage: [
    'unet-studio train <project> [--preset auto|fast|standard|paper] [--budget 30m | --epochs N] [--batch-size N] [--learning-rate X]',
    '    [--scale X | --size WxH] [--patch N] [--validation PERCENT] [--base 8|16|32|64] [--bilinear]',
    '    [--optimizer adam|adamw|rmsprop] [--patience N] [--class-weights 1,2] [--seed N] [--cache-mib N]',
    `    [--backend ${BackendChoice.options.join('|')}] [--threads N] [--resume RUN | --from RUN] [--classes N] [--json]`,
  ].join('\n'),
  options: {
    preset: { type: 'string', default: 'auto' },
    epochs: { type: 'string' },
    budget: { type: 'string' },
    'batch-size': { type: 'string' },
    'learning-rate': { type: 'string' },
    scale: { type: 'string' },
    size: { type: 'string' },
    patch: { type: 'string' },
    validation: { type: 'string' },
    base: { type: 'string' },
    bilinear: { type: 'boolean' },
    optimizer: { type: 'string' },
    patience: { type: 'string' },
    'class-weights': { type: 'string' },
    seed: { type: 'string' },
    'cache-mib': { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    resume: { type: 'string' },
    from: { type: 'string' },
    classes: { type: 'string' },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (!root || positionals.length > 1) throw new UsageError('train takes exactly one project folder.');
    const project = await Project.open(root);
    if (values.classes !== undefined && Number(values.classes) !== project.classes.length && Number(values.classes) !== project.classes.length - 1) {
      throw new UsageError(`--classes ${values.classes} does not match the project, which has ${project.classes.length} classes (background included). Change classes with "unet-studio init" or in project.json.`);
    }
    const { run, resume } = await prepareRun(project, parseRequest(project.root, values));
    const { config } = run.summary;
    const epochs = config.settings.timeBudgetSeconds === null ? `${config.settings.epochs} epochs` : `about ${config.settings.epochs} epochs in ${formatMinutes(config.settings.timeBudgetSeconds)}`;
    context.print(`${resume ? 'Resuming' : 'Training'} run ${run.id} (${config.preset} preset): U-Net base ${config.model.base} (${config.model.upsampling}), ${epochs}, batch ${config.settings.batchSize}, ${config.settings.optimizer} lr ${config.settings.learningRate}`);
    if (!resume && config.choices.length) {
      context.print('The auto preset chose:');
      for (const choice of config.choices) context.print(`  ${choice.setting}: ${choice.value} (${choice.reason})`);
    }

    const bar = new ProgressBar('Training', process.stderr, !context.json && Boolean(process.stderr.isTTY));
    const summary = await runTrainer(forkWorker, { project: project.root, runId: run.id, resume }, {
      signal: context.signal,
      onStart: (current) => {
        if (current.backend) context.print(`Backend: ${describeBackend(current.backend)}`);
        if (current.batchPlan) context.print(`Batches: ${describeBatchPlan(current.batchPlan)} (${current.batchPlan.reason})`);
      },
      onStep: (step) => {
        bar.update(step.step, step.steps, `epoch ${step.epoch}/${step.epochs} loss ${step.loss.toFixed(4)} ${step.imagesPerSecond.toFixed(1)} img/s ETA ${formatDuration(step.etaSeconds)}`);
      },
      onEpoch: (record, current) => {
        bar.finish();
        const dice = record.valDice === null ? (current.valImages > 0 ? 'no labelled pixels in the validation images (all ignore)' : 'no validation images') : `val Dice ${record.valDice.toFixed(4)} IoU ${record.valIou!.toFixed(4)}`;
        context.print(`epoch ${record.epoch}/${current.config.settings.epochs}  train loss ${record.trainLoss.toFixed(4)}  ${dice}  lr ${record.learningRate.toExponential(2)}  ${record.imagesPerSecond.toFixed(1)} img/s`);
      },
    }).finally(() => bar.finish());

    const metrics = await (await RunFolder.open(project, run.id)).readMetrics();
    const best = metrics.find((record) => record.epoch === summary.bestEpoch) ?? null;
    context.print(`Run ${summary.id} ${summary.state}: best epoch ${summary.bestEpoch ?? '-'}${summary.bestValDice !== null ? `, val Dice ${summary.bestValDice.toFixed(4)}` : ''}`);
    const modelPath = summary.modelPath ? await project.resolve(summary.modelPath) : null;
    if (modelPath) context.print(`Model: ${modelPath}`);
    return { exitCode: EXIT.ok, json: { run: summary, best, modelPath } };
  },
};

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function parseRequest(project: string, values: Record<string, unknown>): TrainRequest {
  const { text, number, choice, sizing, duration } = optionReader(values);
  if (text('budget') !== undefined && text('epochs') !== undefined) throw new UsageError('Use either --budget (epochs that fit the time) or --epochs, not both.');
  if (text('resume') !== undefined && text('from') !== undefined) throw new UsageError('Use either --resume (continue a run) or --from (fine-tune from a run), not both.');
  const weights = text('class-weights')?.split(',').map(Number);
  if (weights?.some((weight) => !Number.isFinite(weight))) throw new UsageError('--class-weights must be numbers separated by commas, e.g. 1,2.');
  const settings = Object.fromEntries(
    Object.entries({
      epochs: number('epochs'),
      timeBudgetSeconds: duration('budget'),
      batchSize: number('batch-size'),
      learningRate: number('learning-rate'),
      validationPercent: number('validation'),
      patchSize: number('patch'),
      optimizer: choice('optimizer', OptimizerName.options),
      patience: number('patience'),
      seed: number('seed'),
      cacheMiB: number('cache-mib'),
      backend: choice('backend', BackendChoice.options),
      threads: number('threads'),
      classWeights: weights,
      sizing: sizing(),
    }).filter(([, value]) => value !== undefined),
  );
  const model = Object.fromEntries(
    Object.entries({ base: number('base'), upsampling: values.bilinear ? 'bilinear' : undefined }).filter(([, value]) => value !== undefined),
  );
  const parsed = TrainRequest.safeParse({
    project,
    preset: choice('preset', PresetName.options) ?? 'auto',
    model,
    settings,
    ...(text('resume') ? { resume: text('resume') } : {}),
    ...(text('from') ? { from: text('from') } : {}),
  });
  if (!parsed.success) throw new UsageError(`Invalid training option: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}
