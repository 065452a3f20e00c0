import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrowserHost } from '../../host/browser-host.js';
import { createAppServices } from '../../services/app-services.js';
import { userSettingsDir } from '../../settings/user-settings-dir.js';
import { UsageError, EXIT } from '../cli-error.js';
import type { Command } from '../command.js';

/** The built renderer, beside the compiled app (dist/renderer). */
const RENDERER_DIR = fileURLToPath(new URL('../../../renderer/', import.meta.url));

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the studio UI in a browser, on a project or the start page (127.0.0.1 only, token-protected)',
  usage: [
    'unet-studio serve [project] [--port N] [--allow <folder>]...   (stop with Ctrl+C)',
    '  The page may use your home folder (not its hidden folders), the projects it opens, and each --allow folder.',
  ].join('\n'),
  options: {
    port: { type: 'string', default: '0' },
    allow: { type: 'string', multiple: true },
  },
  async run(values, positionals, context) {
    const [root] = positionals;
    if (positionals.length > 1) throw new UsageError('serve takes at most one project folder.');
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a whole number from 0 (any free port) to 65535.');
    const allowed = ((values.allow as string[] | undefined) ?? []).map((folder) => path.resolve(folder));
    // The recent projects live where the desktop app keeps them, so both show one list.
    const services = createAppServices({ settingsDir: userSettingsDir(), grants: { home: os.homedir(), roots: allowed } });
    // Without a project the page opens on its start view (create, open or try the demo).
    const project = root ? await services.projects.get(root) : null;
    const host = await startBrowserHost({ registry: services.registry, events: services.events, staticDir: RENDERER_DIR, port, ...(project ? { project: project.root } : {}) });
    context.print(`Serving ${project?.name ?? 'U-Net Studio'} at ${host.url}`);
    context.print('Only this machine can connect; the link carries the access token. Press Ctrl+C to stop.');
    if (context.json) process.stdout.write(`${JSON.stringify({ url: host.url, port: host.port, project: project?.root ?? null })}\n`);
    await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve(), { once: true }));
    await services.close();
    await host.close();
    return { exitCode: EXIT.ok, json: null };
  },
};
