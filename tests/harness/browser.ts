/**
 * Headless Chromium for the browser tests and the dashboard bench: the system chromium
 * (/usr/bin/chromium) launched with the flags they all use, and the built dashboard they load
 * (`npm test` builds it first; a bare `vitest run` of one file builds it once if it is missing).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The built dashboard the API serves. */
export const DASHBOARD_DIST = join(root, 'dashboard', 'dist');

/** Headless, no sandbox (containers), no GPU, and none of Chromium's own network chatter. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Build the dashboard (vite, dashboard/vite.config.ts): always when `fresh`, else only if dashboard/dist has none. */
export async function buildDashboard({ fresh = false }: { fresh?: boolean } = {}): Promise<void> {
  if (fresh || !existsSync(join(DASHBOARD_DIST, 'index.html')))
    await build({ configFile: join(root, 'dashboard', 'vite.config.ts'), logLevel: 'warn' });
}
