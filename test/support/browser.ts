import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM } from './oracles.js';

/** A page that records what it must never do: log an error, throw, or ask the network for anything. */
export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request for something other than a file: or data: URL (each is also refused). */
  requests: string[];
}

/**
 * Debian's Chromium (the `chromium` oracle), headless through playwright-core (no browser download), with a fresh
 * profile, nothing in the background and no network of its own.
 */
export class Browser {
  private constructor(private readonly context: BrowserContext) {}

  /** Starts Chromium with its profile in `profile`, an empty folder (a `tempDir`) that outlives the browser. */
  static async launch(profile: string): Promise<Browser> {
    // Loaded here, so that test files without a browser do not load playwright.
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    return new Browser(context);
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

  close(): Promise<void> {
    return this.context.close();
  }
}
