import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** SwiftShader's Vulkan driver as Debian's chromium ships it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Why the tests that need a software GPU are skipped here, or false when they run. */
export const noSoftwareGpu: string | false = existsSync(SWIFTSHADER_ICD) ? false : `${SWIFTSHADER_ICD} is absent (SwiftShader comes with Debian's chromium: apt-get install chromium)`;

/**
 * The environment under which Dawn finds SwiftShader as its only adapter: the Vulkan loader reads
 * VK_ICD_FILENAMES, and SwiftShader wants an XDG_RUNTIME_DIR. Given to the processes that need it
 * (or set in one test file's own process), never globally.
 */
export function softwareGpuEnv(): Record<string, string> {
  const runtimeDir = path.join(os.tmpdir(), `unet-studio-xdg-${process.getuid?.() ?? 'user'}`);
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  return { VK_ICD_FILENAMES: SWIFTSHADER_ICD, XDG_RUNTIME_DIR: runtimeDir };
}

/** Points this test process at SwiftShader; call before Dawn first loads. */
export function useSoftwareGpu(): void {
  Object.assign(process.env, softwareGpuEnv());
}
