import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(ROOT, folder), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(ts|cts|svelte)$/.test(entry.name))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

async function importsOf(file: string): Promise<string[]> {
  const text = await fs.readFile(path.join(ROOT, file), 'utf8');
  const patterns = /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  return [...text.matchAll(patterns)].map((match) => (match[1] ?? match[2] ?? match[3])!);
}

/** Where an import lands, as a repository-relative path for relative imports, else the package name. */
function target(file: string, specifier: string): string {
  return specifier.startsWith('.') ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)) : specifier;
}

// The architecture's dependency direction: renderer -> app/contract (and the editor core) only;
// main -> app, never the renderer; app -> neither.
test('the renderer imports only the contract and the DOM-free view cores (editor, run monitor; and browser libraries), never Node or other app code', async () => {
  for (const file of await sourceFiles('renderer/src')) {
    for (const specifier of await importsOf(file)) {
      const landing = target(file, specifier);
      const allowed =
        landing.startsWith('renderer/') ||
        landing.startsWith('app/contract/') ||
        landing.startsWith('app/editor/') ||
        landing.startsWith('app/monitor/') ||
        /^(svelte|konva|zod|uplot)(\/|$)/.test(landing);
      assert.ok(allowed, `${file} imports ${specifier}`);
    }
  }
});

test('the contract is pure: zod and itself only, so it runs in a browser', async () => {
  for (const file of await sourceFiles('app/contract')) {
    for (const specifier of await importsOf(file)) {
      const landing = target(file, specifier);
      assert.ok(landing.startsWith('app/contract/') || landing === 'zod', `${file} imports ${specifier}`);
    }
  }
});

test('the run monitor is plain TypeScript over the contract: no DOM libraries, no Node', async () => {
  for (const file of await sourceFiles('app/monitor')) {
    for (const specifier of await importsOf(file)) {
      const landing = target(file, specifier);
      assert.ok(landing.startsWith('app/monitor/') || landing.startsWith('app/contract/'), `${file} imports ${specifier}`);
    }
  }
});

test('the editor core is plain TypeScript: it imports only itself and the pure contract (no DOM libraries, no Node)', async () => {
  for (const file of await sourceFiles('app/editor')) {
    for (const specifier of await importsOf(file)) {
      const landing = target(file, specifier);
      assert.ok(landing.startsWith('app/editor/') || landing.startsWith('app/contract/'), `${file} imports ${specifier}`);
    }
  }
});

test('main/ imports Electron, Node and app/, never the renderer; it registers no channel handler (they live in app/services)', async () => {
  for (const file of await sourceFiles('main')) {
    for (const specifier of await importsOf(file)) {
      const landing = target(file, specifier);
      assert.ok(!landing.startsWith('renderer/') && !landing.startsWith('..'), `${file} imports ${specifier}`);
    }
    assert.doesNotMatch(await fs.readFile(path.join(ROOT, file), 'utf8'), /\.register\(\s*'/, `${file} registers a channel handler`);
  }
});

test('app/ never depends on Electron, main/ or the renderer', async () => {
  for (const file of await sourceFiles('app')) {
    for (const specifier of await importsOf(file)) {
      const landing = target(file, specifier);
      assert.ok(!/^(electron|main\/|renderer\/)/.test(landing), `${file} imports ${specifier}`);
    }
  }
});

test('job results reach the renderer typed by their kind: no view casts one or names its type by hand', async () => {
  for (const file of await sourceFiles('renderer/src')) {
    const text = await fs.readFile(path.join(ROOT, file), 'utf8');
    assert.doesNotMatch(text, /jobs\.finished</, `${file} picks a job's result type by hand`);
    assert.doesNotMatch(text, /\b(result|value)\s+as\s/, `${file} casts a result`);
  }
});
