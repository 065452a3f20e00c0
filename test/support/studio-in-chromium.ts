import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { type BrowserHost, startBrowserHost } from '../../app/host/browser-host.js';
import { type AppServices, createAppServices } from '../../app/services/app-services.js';
import { CHROMIUM, launchPage } from './chromium.js';

const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** The skip reason of an end-to-end describe on a machine without Debian's Chromium (false where it is installed). */
export const WITHOUT_CHROMIUM = !existsSync(CHROMIUM) && `${CHROMIUM} is not installed`;

export interface StudioOptions {
  /** Start of the temporary work folder's name, e.g. 'unet-ui-e2e-'. */
  name: string;
  viewport?: { width: number; height: number };
  /** Makes the files and projects the tests start from, in the work folder (the page's home), once the services run. */
  prepare?(work: string, services: AppServices): Promise<void>;
}

/** The studio of an end-to-end file; its fields are set once its `before` hook ran. */
export class Studio {
  /** The temporary folder holding the test's files and projects; the page may use it. */
  work!: string;
  services!: AppServices;
  host!: BrowserHost;
  browser!: Browser;
  page!: Page;
  /** The page's uncaught errors and console errors, for the file to judge. */
  readonly problems: string[] = [];

  /** Starts the browser-mode host (again, after a test closed it to restart it: on the same `port`). */
  async startHost(port?: number): Promise<BrowserHost> {
    this.host = await startBrowserHost({ registry: this.services.registry, events: this.services.events, staticDir: RENDERER_DIR, ...(port === undefined ? {} : { port }) });
    return this.host;
  }
}

/**
 * The set-up every end-to-end file in Chromium shares, registered as `before`/`after` hooks of the
 * describe it is called in: a temporary work folder, the app services with it as the page's home,
 * `prepare`, the browser-mode host serving the built renderer, and Chromium with one page. After
 * the tests all of it is closed and the work folder removed.
 */
export function studioInChromium(options: StudioOptions): Studio {
  const studio = new Studio();
  before(async () => {
    assert.ok(existsSync(path.join(RENDERER_DIR, 'index.html')), 'dist/renderer is missing: run `npm run build` first');
    studio.work = await mkdtemp(path.join(tmpdir(), options.name));
    studio.services = createAppServices({ browseHome: studio.work });
    await options.prepare?.(studio.work, studio.services);
    await studio.startHost();
    ({ browser: studio.browser, page: studio.page } = await launchPage(studio.problems, options.viewport));
  });
  after(async () => {
    await studio.browser?.close();
    await studio.host?.close();
    await studio.services?.close();
    if (studio.work) await rm(studio.work, { recursive: true, force: true });
  });
  return studio;
}
