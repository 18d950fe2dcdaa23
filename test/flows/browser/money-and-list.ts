/**
 * The OpenAPI at /docs, money, the order form's checks and the list, in Chromium against the shared platform: amounts
 * in the order's currency and the browser's locale; every problem of the form at once, before
 * anything is sent, with the limits shown as hints; the list filtered by status, and the
 * navigation marking the page one is on.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { call, waitForOrderStatus, type TestSystem } from '../../system-helper.ts'
import { launchBrowser, openPage, registerAndSignIn, saveScreenshot, tokenOf, watchPage } from '../../browser-helper.ts'

export async function moneyAndListFlow (t: Test, { gateway }: TestSystem) {
  const browser = await launchBrowser(t)
  const newEmail = (who: string) => `${who}-${randomUUID()}@example.com`

  t.test('the orders API\'s OpenAPI is served through the gateway at /docs, and says how to get a token', async t => {
    const page = await openPage(t, browser, gateway)
    await page.goto('/docs')
    await page.getByText('order-service', { exact: false }).first().waitFor()
    t.match(await page.title(), /Swagger UI/)
    const spec = (await call(`${gateway}/docs/json`)).body as { info: { description: string }, paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> }
    t.match(spec.info.description, /POST \/login/)
    t.ok(spec.paths['/orders']?.get?.parameters?.some(p => p.name === 'status'), 'the status filter is documented')
  })

  t.test('the form shows the limits, and every problem of every row at once, before sending anything', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, newEmail('careful'))
    await page.getByRole('link', { name: 'Place an order' }).first().click()
    await page.getByRole('heading', { name: 'Place an order' }).waitFor()
    const row1 = page.getByRole('group', { name: 'Item 1' })
    t.match(await row1.locator('.field__hint').allTextContents(), [/64/, /1 to 1,000/, /€0\.01 to €1,000,000\.00/], 'the contract\'s limits as hints')

    let posted = 0
    page.on('request', request => { if (request.method() === 'POST' && new URL(request.url()).pathname === '/orders') posted++ })
    await row1.getByLabel('SKU').fill('two words')
    await row1.getByLabel('Quantity').fill('-1')
    await row1.getByLabel('Unit price').fill('0')
    await page.getByRole('button', { name: 'Add another item' }).click()
    const row2 = page.getByRole('group', { name: 'Item 2' })
    await row2.getByLabel('Quantity').fill('1001')
    await page.getByRole('button', { name: 'Place order' }).click()

    t.same(await row1.locator('.field__error').allTextContents(), ["SKU may contain letters, digits, '.', '_' and '-'.", 'Quantity must be at least 1.', 'Unit price must be at least €0.01.'])
    t.same(await row2.locator('.field__error').allTextContents(), ['SKU is required.', 'Quantity must be at most 1000.', 'Unit price is required.'])
    t.equal(await page.getByRole('alert').textContent(), '6 fields need attention.')
    t.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-invalid')), 'true', 'focus on the first field to fix')
    t.equal(await page.locator('.order-total output').textContent(), '€0.00', 'no refused row counts towards the total')
    t.equal(posted, 0, 'nothing was sent')
    await saveScreenshot(page, 'order-form-all-errors')
  })

  t.test('amounts are in the order\'s currency, written the way the browser\'s locale writes them', async t => {
    const context = await browser.newContext({ baseURL: gateway, locale: 'de-DE' })
    t.teardown(async () => { await context.close() })
    const page = watchPage(t, await context.newPage())
    await registerAndSignIn(page, newEmail('berlin'))
    const token = await tokenOf(page)
    t.equal((await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'BOOK-42', quantity: 3, unit_price: 499 }, { sku: 'PEN', quantity: 1, unit_price: 100 }] } })).status, 201)

    // Through the form, in yen: no minor unit, so "500" is 500 yen.
    await page.getByRole('link', { name: 'Place an order' }).first().click()
    await page.getByLabel('Currency').selectOption('JPY')
    const row = page.getByRole('group', { name: 'Item 1' })
    await row.getByLabel('SKU').fill('TEA')
    await row.getByLabel('Quantity').fill('2')
    await row.getByLabel('Unit price').fill('500')
    t.match(await page.locator('.order-total output').textContent(), /^1\.000\s¥$/, 'the running total in yen, German grouping')
    await page.getByRole('button', { name: 'Place order' }).click()
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    await page.locator('.order-card').nth(1).waitFor()

    const totals = await page.locator('.order-card__total').allTextContents()
    t.equal(totals.length, 2)
    t.match(totals[0], /^1\.000\s¥$/, 'the yen order, newest first')
    t.match(totals[1], /^15,97\s€$/, 'the euro order: decimal comma, euro sign after')
    t.equal((await call(`${gateway}/orders?limit=1`, { token })).body.orders[0].currency, 'JPY', 'the API stored the currency')
    await saveScreenshot(page, 'orders-de-DE')
  })

  t.test('the list shows one status when asked, and the navigation marks the page one is on', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, newEmail('tidy'))
    const token = await tokenOf(page)
    const place = async (sku: string, price: number) => (await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku, quantity: 1, unit_price: price }] } })).body as { id: string }
    // One order completes, one fails (over the payment limit): two statuses, whatever the timing.
    const kept = await place('KEPT', 100)
    const declined = await place('YACHT', 10_000_001)
    await waitForOrderStatus(gateway, token, kept.id, ['completed'])
    await waitForOrderStatus(gateway, token, declined.id, ['failed'])

    await page.goto('/')
    await page.locator('.order-card').nth(1).waitFor()
    const nav = page.getByRole('navigation', { name: 'Main' })
    const current = nav.locator('a[aria-current="page"]')
    t.same(await current.allTextContents(), ['My orders'], 'the page one is on, and only it')

    await page.getByLabel('Show').selectOption('failed')
    await page.waitForURL(url => url.search === '?status=failed')
    await page.locator(`[data-order-id="${declined.id}"]`).waitFor()
    await page.locator(`[data-order-id="${kept.id}"]`).waitFor({ state: 'detached' })
    t.same(await page.locator('.order-card').evaluateAll(cards => cards.map(card => card.getAttribute('data-order-id'))), [declined.id])
    t.equal(await page.locator('.order-card__items').first().textContent(), 'YACHT × 1')
    await saveScreenshot(page, 'orders-filtered-failed')

    await page.getByLabel('Show').selectOption('cancelled')
    await page.getByText('You have no cancelled orders.').waitFor()
    await page.getByLabel('Show').selectOption('')
    await page.locator('.order-card').nth(1).waitFor()
    t.equal(await page.locator('.order-card').count(), 2, 'all orders again')

    await nav.getByRole('link', { name: 'Place an order' }).click()
    await page.getByRole('heading', { name: 'Place an order' }).waitFor()
    t.same(await current.allTextContents(), ['Place an order'], 'the mark moves with the page')
  })
}
