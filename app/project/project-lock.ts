import { promises as fs, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../contract/errors.js';
import { isProcessRunning } from '../files/temp-files.js';

const LOCK_FILE = '.lock';

interface LockOwner {
  pid: number;
  hostname: string;
  since: string;
}

const held = new Map<string, Promise<void>>();

/**
 * One writer per project: before a process first changes a project it takes `<project>/.lock`
 * (pid and host), and keeps it until it exits. A second process that tries to write gets a clear
 * error instead of silently overwriting the first one's images, masks or index. A lock left by a
 * process that no longer runs on this machine is taken over.
 */
export function claimProjectWrites(root: string, onFirstClaim?: () => Promise<void>): Promise<void> {
  let claim = held.get(root);
  if (!claim) {
    // Nothing else writes here once the lock is ours, and this process has not written yet: the moment to tidy up after killed writers.
    claim = takeLock(root).then(onFirstClaim);
    held.set(root, claim);
    claim.catch(() => held.delete(root));
  }
  return claim;
}

/** Gives the lock back (a host closing a project; tests). */
export async function releaseProjectWrites(root: string): Promise<void> {
  if (!held.has(root)) return;
  held.delete(root);
  await fs.rm(path.join(root, LOCK_FILE), { force: true });
}

async function takeLock(root: string): Promise<void> {
  const file = path.join(root, LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(owner), { flag: 'wx' });
      process.once('exit', () => {
        if (!held.has(root)) return;
        try {
          unlinkSync(file);
        } catch {
          // the project folder is gone already
        }
      });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const current = await readOwner(file);
    if (current && isAlive(current)) {
      throw new AppError(
        'conflict',
        `${root} is being changed by another U-Net Studio process (pid ${current.pid} on ${current.hostname}, since ${current.since}). Make the change there, or close it first. If that process is gone, delete ${file}.`,
        { file, owner: current },
      );
    }
    await fs.rm(file, { force: true });
  }
  throw new AppError('conflict', `Could not take the write lock ${file}; try again.`, { file });
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as LockOwner;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.hostname !== os.hostname()) return true; // another machine (shared drive): assume it is
  if (owner.pid === process.pid) return false;
  return isProcessRunning(owner.pid);
}
