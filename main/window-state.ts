import path from 'node:path';
import { z } from 'zod';
import { SettingsFile } from '../app/settings/settings-file.js';

export const WindowBounds = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(400).max(20_000),
  height: z.number().int().min(300).max(20_000),
  maximized: z.boolean().default(false),
});
export type WindowBounds = z.infer<typeof WindowBounds>;

export const DEFAULT_BOUNDS: WindowBounds = { width: 1280, height: 840, maximized: false };

interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The window's size and position from the last session, kept in `<userData>/window-state.json`. */
export function windowStateFile(userData: string): SettingsFile<WindowBounds> {
  return new SettingsFile(path.join(userData, 'window-state.json'), WindowBounds, DEFAULT_BOUNDS);
}

/**
 * Keeps the saved position only when the window's title bar would be on one of today's displays
 * (a monitor may have been unplugged); otherwise the OS places the window.
 */
export function placeOnDisplays(bounds: WindowBounds, workAreas: readonly Rectangle[]): WindowBounds {
  if (bounds.x === undefined || bounds.y === undefined) return bounds;
  const { x, y } = bounds;
  const visible = workAreas.some((area) => x + 100 > area.x && x < area.x + area.width - 100 && y >= area.y && y < area.y + area.height - 50);
  if (visible) return bounds;
  const { x: _x, y: _y, ...size } = bounds;
  return size;
}
