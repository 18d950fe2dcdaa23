/**
 * Debian's Chromium driven by playwright-core: no browser download, the same binary CI
 * installs (.ci/run). Each launch gets a fresh temporary profile from Playwright.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Test } from 'tap'
import { chromium, type Browser, type Cookie, type Page } from 'playwright-core'
import { LIVE_STATUS_PATH } from '@orders/contracts/live-status'
import { REFRESH_COOKIE, TOKEN_PATH } from '@orders/contracts/sessions'
import { REPO_ROOT } from '@orders/system'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOTS = path.join(REPO_ROOT, 'artifacts', 'screenshots')
export const PASSWORD = 'correct horse battery'

/** For `page.routeWebSocket`: the app's live-status socket. */
export const isLiveStatusSocket = (url: URL): boolean => url.pathname === LIVE_STATUS_PATH

export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync']
  })
  t.teardown(async () => { await browser.close() })
  return browser
}

/**
 * A page in a context of its own (its own cookies), on the gateway's origin. The page's
 * console errors and uncaught exceptions are printed if the test fails.
 */
export async function openPage (t: Test, browser: Browser, gateway: string, viewport = { width: 1024, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ baseURL: gateway, viewport })
  t.teardown(async () => { await context.close() })
  return watchPage(t, await context.newPage())
}

/** Another tab of the same browser session as `page`: the same cookies, so the same sign-in. */
export async function openTabBeside (t: Test, page: Page): Promise<Page> {
  return watchPage(t, await page.context().newPage())
}

/**
 * What every test page needs (openPage does it; a page made otherwise calls it): a default
 * timeout, the page's errors printed if the test fails, and its access token kept for tokenOf.
 */
export function watchPage (t: Test, page: Page): Page {
  page.setDefaultTimeout(15_000)
  const problems: string[] = []
  page.on('console', message => { if (message.type() === 'error') problems.push(`console: ${message.text()}`) })
  page.on('pageerror', error => { problems.push(`page error: ${error.message}`) })
  // The access token lives in the app's memory only; the tests read it off the answers that bring it.
  page.on('response', response => {
    const path = new URL(response.url()).pathname
    if (response.ok() && response.request().method() === 'POST' && (path === '/login' || path === TOKEN_PATH)) {
      heldTokens.set(page, response.json().then((body: { access_token: string }) => body.access_token))
    }
  })
  t.teardown(() => { if (!t.passing()) console.error(`${t.name}: page at ${page.url()}\n${problems.join('\n')}`) })
  return page
}

const heldTokens = new WeakMap<Page, Promise<string>>()

export async function saveScreenshot (page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true })
  const file = path.join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

/** Registers through the app and signs in as that person; ends on "My orders". */
export async function registerAndSignIn (page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/register')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'My orders' }).waitFor()
}

/** The access token the app holds (the last one the API gave this page), for arranging things through the API. */
export async function tokenOf (page: Page): Promise<string> {
  const token = heldTokens.get(page)
  if (token === undefined) throw new Error('this page was given no access token')
  return await token
}

/** The browser's refresh cookie, as the browser keeps it (no script on the page can read it). */
export async function refreshCookieOf (page: Page): Promise<Cookie | undefined> {
  return (await page.context().cookies()).find(cookie => cookie.name === REFRESH_COOKIE)
}

/** Fills the order form's rows ([sku, quantity, unit price as typed]) and places the order. */
export async function placeOrder (page: Page, rows: Array<[string, string, string]>): Promise<void> {
  await page.getByRole('link', { name: 'Place an order' }).first().click()
  await page.getByRole('heading', { name: 'Place an order' }).waitFor()
  for (const [i, [sku, quantity, price]] of rows.entries()) {
    if (i > 0) await page.getByRole('button', { name: 'Add another item' }).click()
    const row = page.getByRole('group', { name: `Item ${i + 1}` })
    await row.getByLabel('SKU').fill(sku)
    await row.getByLabel('Quantity').fill(quantity)
    await row.getByLabel('Unit price').fill(price)
  }
  await page.getByRole('button', { name: 'Place order' }).click()
}
