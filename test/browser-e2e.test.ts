import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { thumbnailsDecoded } from './support/page-waits.js';
import { WebSocket } from 'ws';
import { ContractClient } from '../app/contract/client.js';
import type { EventPayload } from '../app/contract/channels.js';
import { unwrap } from '../app/contract/envelope.js';
import { createWebSocketTransport } from '../app/contract/websocket-transport.js';
import { generateSynthetic } from '../app/dataset/synthetic.js';
import { type BrowserHost, startBrowserHost } from '../app/host/browser-host.js';
import { type AppServices, createAppServices } from '../app/services/app-services.js';

const CHROMIUM = '/usr/bin/chromium';
const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const IMAGE_COUNT = 3;

/** The host's page as a user would open it: everything through the real contract over the real WebSocket. */
function openContract(host: BrowserHost): Promise<ContractClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${host.port}/contract?token=${host.token}`, {
      origin: `http://127.0.0.1:${host.port}`,
    });
    socket.once('open', () => resolve(new ContractClient(createWebSocketTransport(socket))));
    socket.once('error', reject);
  });
}

function pageUrl(host: BrowserHost, project: string): string {
  const url = new URL(host.url);
  url.searchParams.set('project', project);
  return url.href;
}

describe('browser mode end to end', { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is not installed` }, () => {
  let work: string;
  let services: AppServices;
  let host: BrowserHost;
  let client: ContractClient;
  let browser: Browser;
  let imageNames: string[];
  let projectDir: string;
  const pageProblems: string[] = [];

  before(async () => {
    assert.ok(existsSync(path.join(RENDERER_DIR, 'index.html')), 'dist/renderer is missing: run `npm run build` first');
    work = await mkdtemp(path.join(tmpdir(), 'unet-e2e-'));
    const synthetic = await generateSynthetic({ outDir: path.join(work, 'synthetic'), count: IMAGE_COUNT, width: 128, height: 96, seed: 11, classes: 2 });
    imageNames = synthetic.images.map((image) => path.basename(image)).sort();

    services = createAppServices({ browseHome: work });
    host = await startBrowserHost({ registry: services.registry, events: services.events, staticDir: RENDERER_DIR });
    client = await openContract(host);

    projectDir = path.join(work, 'project');
    unwrap(await client.invoke('project.create', { path: projectDir, name: 'Synthetic cells', classes: ['cell'] }));
    const finished = new Map<string, EventPayload<'job.finished'>>();
    const jobDone = new Promise<void>((resolve) =>
      client.on('job.finished', (event) => {
        finished.set(event.jobId, event);
        resolve();
      }),
    );
    const { jobId } = unwrap(
      await client.invoke('import.start', { project: projectDir, images: [synthetic.imagesDir], masks: synthetic.masksDir }),
    );
    await jobDone;
    const result = finished.get(jobId)?.result;
    assert.ok(result?.ok, `import failed: ${JSON.stringify(result)}`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    client?.close();
    await host?.close();
    await services?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function openPage(project: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const page = await browser.newPage({ colorScheme, viewport: { width: 1100, height: 700 } });
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`console: ${message.text()}`);
    });
    await page.goto(pageUrl(host, project));
    return page;
  }

  it('opens the project named in the address: the grid shows names, sizes, status and loaded thumbnails', async () => {
    const page = await openPage(projectDir);
    await page.getByRole('heading', { name: 'Synthetic cells' }).waitFor();
    const cells = page.getByRole('grid', { name: 'Images' }).getByRole('gridcell');
    await thumbnailsDecoded(page, IMAGE_COUNT);
    assert.equal(await cells.count(), IMAGE_COUNT);
    const sources = await cells.locator('img').evaluateAll((images) => images.map((image) => image.getAttribute('src')));
    assert.ok(sources.every((source) => source?.startsWith('blob:')), String(sources));
    assert.deepEqual((await cells.locator('.name').allTextContents()).sort(), imageNames);
    assert.deepEqual(await cells.locator('.size').allTextContents(), Array(IMAGE_COUNT).fill('128 × 96'));
    assert.deepEqual(await cells.locator('.badge').allTextContents(), Array(IMAGE_COUNT).fill('labelled'));

    const count = (key: string) => page.locator(`[data-count="${key}"]`).textContent();
    assert.equal(await count('images'), String(IMAGE_COUNT));
    assert.equal(await count('labelled'), String(IMAGE_COUNT));
    assert.equal(await count('unlabelled'), '0');
    assert.deepEqual(await page.getByLabel('Classes').locator('.class').allTextContents().then((names) => names.map((name) => name.trim())), ['background', 'cell']);
    assert.deepEqual(pageProblems, []);
  });

  it('opens on the start view when the address names no project', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(host.url);
    await page.getByRole('heading', { name: 'Create a project' }).waitFor();
    await page.getByRole('button', { name: 'Try the demo' }).waitFor();
  });

  it('shows the empty state for a project without images', async () => {
    const emptyDir = path.join(work, 'empty');
    unwrap(await client.invoke('project.create', { path: emptyDir, name: 'Empty project', classes: ['cell'] }));
    const page = await openPage(emptyDir);
    await page.getByText('No images yet').waitFor();
    assert.match(String(await page.locator('.empty').textContent()), /Import a folder of images/);
    assert.equal(await page.getByRole('grid', { name: 'Images' }).count(), 0);
  });

  it("shows the host's error message when the project cannot be opened", async () => {
    const missing = path.join(work, 'no-such-project');
    const expected = await client.invoke('project.open', { path: missing });
    assert.ok(!expected.ok);
    const page = await openPage(missing);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.ok(String(await alert.textContent()).includes(expected.error.message));
  });
});
