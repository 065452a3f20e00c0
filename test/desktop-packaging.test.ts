// Installers: electron-builder.yml against electron-builder's own JSON schema, the fuses, the native
// modules left outside the asar, the CI workflow, and the smoke test the packaged apps run.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSmokeTest } from '../main/smoke-test.js';
import { noSoftwareGpu, useSoftwareGpu } from './support/software-gpu.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Both come with electron-builder (app-builder-lib validates its configuration with them).
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const Ajv = require('ajv') as new (options: object) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown } };

async function builderConfig(): Promise<Record<string, unknown>> {
  return yaml.load(await fs.readFile(`${ROOT}electron-builder.yml`, 'utf8')) as Record<string, unknown>;
}

test('electron-builder.yml validates against node_modules/app-builder-lib/scheme.json', async () => {
  const schema = JSON.parse(await fs.readFile(`${ROOT}node_modules/app-builder-lib/scheme.json`, 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const config = await builderConfig();
  assert.ok(validate(config), JSON.stringify(validate.errors, null, 2));
  // The check can fail: a misspelt key is refused.
  assert.equal(validate({ ...config, asarUnpak: [] }), false);
});

test('the installers: targets, fuses, and native modules unpacked from the asar', async () => {
  const config = await builderConfig();
  assert.equal(config.appId, 'org.unetstudio.app');
  assert.equal(config.productName, 'U-Net Studio');
  assert.deepEqual((config.linux as { target: string[] }).target, ['AppImage', 'deb']);
  assert.deepEqual((config.win as { target: string[] }).target, ['nsis']);
  assert.deepEqual((config.mac as { target: string[] }).target, ['dmg']);
  assert.deepEqual(
    { ...(config.electronFuses as object) },
    {
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    },
  );
  const unpacked = config.asarUnpack as string[];
  for (const pattern of ['node_modules/onnxruntime-node/**', 'node_modules/sharp/**', 'node_modules/@img/**', 'node_modules/@tensorflow/tfjs-node/**', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/**']) {
    assert.ok(unpacked.includes(pattern), pattern);
  }
  // Dawn: every platform's dawn.node (and the DLLs beside it on Windows) is unpacked, and each
  // installer keeps its own platform's build and leaves the others out.
  const dawnBuilds = (await fs.readdir(`${ROOT}node_modules/webgpu/dist`)).map((build) => `node_modules/webgpu/dist/${build}`);
  assert.ok(dawnBuilds.length >= 3, dawnBuilds.join());
  for (const build of dawnBuilds) {
    for (const file of await fs.readdir(`${ROOT}${build}`)) {
      assert.ok(unpacked.some((pattern) => path.matchesGlob(`${build}/${file}`, pattern)), `${build}/${file} stays in the asar`);
    }
  }
  for (const [platform, prefix] of [['linux', 'linux-'], ['win', 'win32-'], ['mac', 'darwin-']] as const) {
    const excludes = ((config[platform] as { files?: string[] }).files ?? []).map((pattern) => pattern.replace(/^!/, ''));
    for (const build of dawnBuilds) {
      const excluded = excludes.some((pattern) => path.matchesGlob(`${build}/dawn.node`, pattern));
      assert.equal(excluded, !path.basename(build).startsWith(prefix), `${platform} installer and ${build}`);
    }
  }
  assert.ok(existsSync(`${ROOT}${config.icon as string}`));
  const pkg = JSON.parse(await fs.readFile(`${ROOT}package.json`, 'utf8')) as { main: string; scripts: Record<string, string> };
  assert.equal(pkg.main, 'dist/main/main.js');
  assert.ok(existsSync(`${ROOT}${pkg.main}`), 'npm run build emits the main process');
  assert.match(pkg.scripts.start!, /electron \./);
  assert.match(pkg.scripts.package!, /electron-builder/);
  // npm test builds first, and the build compiles main/ against Electron's own types.
  assert.match(pkg.scripts.test!, /^npm run build &&/);
  assert.match(pkg.scripts.build!, /tsc -p main\/tsconfig.json/);
});

test('the installers workflow builds on Linux, Windows and macOS and smoke-tests each packaged app', async () => {
  const workflow = yaml.load(await fs.readFile(`${ROOT}.github/workflows/installers.yml`, 'utf8')) as {
    jobs: Record<string, { strategy: { matrix: { os: string[] } }; steps: Array<{ run?: string }> }>;
  };
  const job = Object.values(workflow.jobs)[0]!;
  assert.deepEqual([...job.strategy.matrix.os].map((os) => os.split('-')[0]).sort(), ['macos', 'ubuntu', 'windows']);
  const commands = job.steps.map((step) => step.run ?? '').join('\n');
  assert.match(commands, /npm run package/);
  assert.match(commands, /--smoke-test/);
});

test('the smoke test loads Dawn and segments a generated image with sharp, tfjs and onnxruntime-node', async () => {
  // SwiftShader stands in for a GPU: Dawn loads and offers it, and `auto` passes over it.
  if (!noSoftwareGpu) useSoftwareGpu();
  const result = await runSmokeTest();
  assert.equal(result.size, 64);
  assert.match(result.onnxruntime, /^\d+\.\d+/);
  assert.equal(result.backend, 'wasm');
  // Without SwiftShader (and no GPU) Dawn still loads and says it found no adapter.
  assert.match(result.webgpu, noSoftwareGpu ? /^no WebGPU adapter: Dawn found no GPU/ : /^SwiftShader driver [\d.]+ \(google swiftshader, software\)$/);
  assert.ok(result.foregroundPixels >= 0 && result.foregroundPixels <= 64 * 64);
  assert.ok(result.maskPngBytes > 50);
});
