import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (apt package `chromium`); no browser is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install the Debian package chromium`;
}

/** A page that records what it must never do: log an error, throw, or ask the network for anything. */
export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request for something other than a file: or data: URL (each is also refused). */
  requests: string[];
}

/** Headless Chromium with a fresh profile, nothing in the background and no network of its own. */
export class Browser {
  private constructor(private readonly context: BrowserContext, private readonly profile: string) {}

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'cprune-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    return new Browser(context, profile);
  }

  /** Opens a local file and waits until its script has run. */
  async open(path: string): Promise<WatchedPage> {
    const page = await this.context.newPage();
    const watched: WatchedPage = { page, errors: [], requests: [] };
    page.on('console', (m) => { if (m.type() === 'error') watched.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => watched.errors.push(`uncaught: ${e.message}`));
    const local = (url: string): boolean => url.startsWith('file:') || url.startsWith('data:');
    page.on('request', (r) => { if (!local(r.url())) watched.requests.push(r.url()); });
    await page.route('**/*', (route) => (local(route.request().url()) ? route.continue() : route.abort('blockedbyclient')));
    await page.goto(`file://${path}`, { waitUntil: 'load' });
    return watched;
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}
