// The desktop app's app:// protocol: the renderer and files of open projects, nothing else.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { APP_ORIGIN } from '../main/app-origin.js';
import { createAppProtocolHandler } from '../main/app-protocol.js';
import { DESKTOP_CSP } from '../main/content-policy.js';
import { findProjectFile, projectFilePath } from '../main/project-files.js';
import { tempDir } from './support/temp-dir.js';

const SECRET = 'the secret outside every project';
const IMAGE = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** A renderer folder, an open project (with links in and out of it) and a secret file beside it. */
async function layout(dir: string) {
  const renderer = path.join(dir, 'renderer');
  const project = path.join(dir, 'project');
  const other = path.join(dir, 'closed-project');
  await fs.mkdir(path.join(renderer, 'assets'), { recursive: true });
  await fs.writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
  await fs.writeFile(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  await fs.mkdir(path.join(project, 'images'), { recursive: true });
  await fs.mkdir(other, { recursive: true });
  await fs.writeFile(path.join(project, 'images', 'cell 01.png'), IMAGE);
  await fs.writeFile(path.join(project, 'images', '50%.png'), IMAGE);
  await fs.writeFile(path.join(dir, 'secret.txt'), SECRET);
  await fs.writeFile(path.join(other, 'secret.txt'), SECRET);
  await fs.symlink(path.join(dir, 'secret.txt'), path.join(project, 'link-out.txt'));
  await fs.symlink(dir, path.join(project, 'dir-out'));
  await fs.symlink(path.join(project, 'images', 'cell 01.png'), path.join(project, 'link-in.png'));
  const real = await fs.realpath(project);
  return { renderer, project: real, other: await fs.realpath(other), dir: await fs.realpath(dir) };
}

const keyOf = (root: string) => Buffer.from(root).toString('base64url');

test('legitimate project files and renderer files are served, with the CSP on every response', async (t) => {
  const dir = await tempDir(t);
  const { renderer, project } = await layout(dir);
  const handle = await createAppProtocolHandler({ rendererDir: renderer, openProjects: () => new Set([project]) });

  const page = await handle(new Request(`${APP_ORIGIN}/index.html`));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>studio/);
  assert.equal(page.headers.get('content-security-policy'), DESKTOP_CSP);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');

  for (const name of ['images/cell 01.png', 'images/50%.png', 'link-in.png']) {
    const response = await handle(new Request(`${APP_ORIGIN}${projectFilePath(project, name)}`));
    assert.equal(response.status, 200, name);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(response.headers.get('content-security-policy'), DESKTOP_CSP);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), IMAGE, name);
  }
  const head = await handle(new Request(`${APP_ORIGIN}${projectFilePath(project, 'images/cell 01.png')}`, { method: 'HEAD' }));
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(IMAGE.length));
});

test('path traversal, absolute paths, encoded separators, null bytes and symlinks out are refused', async (t) => {
  const dir = await tempDir(t);
  const { renderer, project, other, dir: parent } = await layout(dir);
  const open = new Set([project]);
  const key = keyOf(project);
  const attacks = [
    `${key}/../secret.txt`,
    `${key}/images/../../secret.txt`,
    `${key}/./images/cell%2001.png`,
    `${key}/%2e%2e/secret.txt`,
    `${key}/..%2fsecret.txt`,
    `${key}/..%2Fsecret.txt`,
    `${key}/..%5csecret.txt`,
    `${key}/images%2f..%2f..%2fsecret.txt`,
    `${key}/..\\secret.txt`,
    `${key}//${parent.slice(1)}/secret.txt`,
    `${key}/%2f${encodeURIComponent(parent.slice(1))}%2fsecret.txt`,
    `${key}/C:%5cWindows%5cwin.ini`,
    `${key}/C:/Windows/win.ini`,
    `${key}/link-out.txt`,
    `${key}/dir-out/secret.txt`,
    `${key}/images/cell%2001.png%00.txt`,
    `${key}/%00`,
    `${key}/%zz`,
    `${key}/`,
    `${key}`,
    `${keyOf(other)}/secret.txt`, // a project that is not open
    `${keyOf(`${project}/..`)}/secret.txt`, // a key that names the parent folder
    `${keyOf(parent)}/secret.txt`,
    `${keyOf('secret.txt')}/secret.txt`, // a relative "root"
    `not+base64/secret.txt`,
  ];
  for (const attack of attacks) {
    assert.equal(await findProjectFile(`/project/${attack}`, open), null, attack);
  }

  // The same through the protocol handler, whatever URL parsing made of them first.
  const handle = await createAppProtocolHandler({ rendererDir: renderer, openProjects: () => open });
  for (const attack of attacks) {
    const response = await handle(new Request(`${APP_ORIGIN}/project/${attack}`));
    const body = await response.text();
    assert.ok(!body.includes(SECRET), attack);
    // URL parsing turns `/./images/x` into `/images/x`, a legitimate file; everything else is refused.
    if (!attack.includes('/./')) assert.notEqual(response.status, 200, attack);
  }
  for (const url of [`${APP_ORIGIN}/..%2f..%2fsecret.txt`, `${APP_ORIGIN}/%2e%2e/%2e%2e/secret.txt`, 'app://evil/index.html']) {
    const response = await handle(new Request(url));
    assert.equal(response.status, 404, url);
  }
  const post = await handle(new Request(`${APP_ORIGIN}/index.html`, { method: 'POST', body: 'x' }));
  assert.equal(post.status, 405);
});

test('a project is served only while it is open', async (t) => {
  const dir = await tempDir(t);
  const { renderer, project } = await layout(dir);
  const open = new Set<string>();
  const handle = await createAppProtocolHandler({ rendererDir: renderer, openProjects: () => open });
  const url = `${APP_ORIGIN}${projectFilePath(project, 'images/cell 01.png')}`;
  assert.equal((await handle(new Request(url))).status, 404);
  open.add(project);
  assert.equal((await handle(new Request(url))).status, 200);
});

test('the CSP allows only the app itself: no inline script, no eval, no network, no frames', () => {
  const directives = new Map(DESKTOP_CSP.split(';').map((part) => {
    const [name, ...values] = part.trim().split(/\s+/);
    return [name!, values];
  }));
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), ["'self'"]);
  assert.deepEqual(directives.get('connect-src'), ["'self'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-src'), ["'none'"]);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
  assert.ok(!/unsafe-eval|http:|https:|ws:|\*/.test(DESKTOP_CSP));
});
