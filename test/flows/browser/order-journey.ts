/**
 * A person's way through the web app, in Chromium, against the whole platform as `pnpm dev`
 * starts it: register → sign in → place an order → watch its badge turn `completed` without a
 * reload; an order over the payment limit ends `failed` with its reason; paging; a phone.
 * Stops the processor in one test and starts it again before that test ends.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { stopUntilTestEnds, type TestSystem } from '../../system-helper.ts'
import { launchBrowser, openPage, placeOrder, refreshCookieOf, registerAndSignIn, saveScreenshot, tokenOf } from '../../browser-helper.ts'

export async function orderJourneyFlow (t: Test, shared: TestSystem) {
  const { gateway } = shared
  const browser = await launchBrowser(t)

  t.test('register, sign in, place an order and see it complete live', async t => {
    // While the processor is stopped the order stays `new`, so the list surely shows it before
    // it completes, and the change to `completed` can only come over the WebSocket.
    const processor = await stopUntilTestEnds(t, shared, 'order-processor')
    const page = await openPage(t, browser, gateway)
    const email = `shopper-${randomUUID()}@example.com`
    await registerAndSignIn(page, email)
    await page.getByText('Live updates on').waitFor()
    // Survives only as long as the document does: still there at the end means no reload.
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true })

    await placeOrder(page, [['BOOK-42', '3', '4.99'], ['PEN', '1', '1.00']])
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    t.match(await page.getByRole('status').filter({ hasText: 'placed' }).textContent(), /Order [0-9a-f]{8} placed; total €15\.97\./)

    const card = page.locator('.order-card').first()
    const id = await card.getAttribute('data-order-id')
    t.ok(id, 'the new order is listed')
    const badge = card.locator('.badge')
    t.equal(await badge.getAttribute('data-status'), 'new', 'listed while still new')
    t.equal(await card.locator('.order-card__total').textContent(), '€15.97')
    t.equal(await card.locator('.order-card__items').textContent(), 'BOOK-42 × 3, PEN × 1', 'what was ordered, not a count')
    await saveScreenshot(page, 'orders-new')

    await processor.restart()
    await card.locator('.badge[data-status="completed"]').waitFor({ timeout: 20_000 })
    t.equal(await badge.textContent(), 'Completed')
    t.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded')
    await saveScreenshot(page, 'orders-completed')

    // The order's page: items, amounts, total, timestamps.
    await card.getByRole('link').click()
    await page.getByRole('heading', { name: `Order ${id!.slice(0, 8)}` }).waitFor()
    const rows = await page.locator('table.items tbody tr').allTextContents()
    t.same(rows, ['BOOK-423€4.99€14.97', 'PEN1€1.00€1.00'])
    t.equal(await page.locator('table.items tfoot td').textContent(), '€15.97')
    t.equal(await page.locator('.order-facts time').count(), 2, 'placed and last changed')
    t.equal(await page.locator('.order-facts .badge').getAttribute('data-status'), 'completed')

    // A reload of a page's own address works (the gateway hands it to the app) and keeps the session.
    await page.reload()
    await page.getByRole('heading', { name: `Order ${id!.slice(0, 8)}` }).waitFor()
    t.equal(await page.locator('.order-facts__id').textContent(), id)

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.equal(await page.getByRole('status').filter({ hasText: 'signed out' }).count(), 1)
    await page.goto('/')
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.equal(new URL(page.url()).pathname, '/sign-in', 'signed out: my orders are behind the sign-in page again')
    t.equal(await refreshCookieOf(page), undefined, 'the refresh cookie is gone')
  })

  t.test('an order over the payment limit ends failed, with the reason', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, `big-spender-${randomUUID()}@example.com`)
    await placeOrder(page, [['YACHT', '1', '100000.01']])
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    const card = page.locator('.order-card').first()
    t.equal(await card.locator('.order-card__total').textContent(), '€100,000.01')
    await card.locator('.badge[data-status="failed"]').waitFor({ timeout: 20_000 })
    t.equal(await card.locator('.badge').textContent(), 'Failed')
    await saveScreenshot(page, 'orders-failed')

    await card.getByRole('link').click()
    await page.locator('.order-facts .badge[data-status="failed"]').waitFor()
    t.match(await page.locator('.order-facts__failure').textContent(), /Payment declined/)
  })

  t.test('"Load more" pages through the orders, newest first', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, `regular-${randomUUID()}@example.com`)
    const token = await tokenOf(page)
    // 22 orders through the API (the page shows 20 at a time): SKU-1 is the oldest.
    for (let i = 1; i <= 22; i++) {
      const res = await fetch(`${gateway}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ sku: `SKU-${i}`, quantity: 1, unit_price: i * 100 }] })
      })
      t.equal(res.status, 201)
    }
    await page.reload()
    await page.locator('.order-card').nth(19).waitFor()
    t.equal(await page.locator('.order-card').count(), 20)
    t.equal(await page.locator('.order-card__total').first().textContent(), '€22.00', 'newest first')
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.locator('.order-card').nth(21).waitFor()
    t.equal(await page.locator('.order-card__total').last().textContent(), '€1.00')
    t.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load')
  })

  t.test('at phone width, by keyboard alone', async t => {
    const page = await openPage(t, browser, gateway, { width: 390, height: 844 })
    const email = `phone-${randomUUID()}@example.com`
    await registerAndSignIn(page, email)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()

    // Tab to the email field, type, tab on, type, Enter: no mouse needed.
    for (let i = 0; i < 10 && await page.evaluate(() => document.activeElement?.id) !== 'email'; i++) await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'email')
    const outline = await page.evaluate(() => { const style = getComputedStyle(document.activeElement!); return `${style.outlineStyle} ${style.outlineWidth}` })
    t.equal(outline, 'solid 3px', 'the focused field shows a focus ring')
    await page.keyboard.press('Control+A')
    await page.keyboard.type(email)
    await page.keyboard.press('Tab')
    await page.keyboard.type('correct horse battery')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'My orders' }).waitFor()

    await placeOrder(page, [['MUG', '2', '7.50'], ['TEA.GREEN', '1', '3.25']])
    await page.locator('.order-card .badge[data-status="completed"]').waitFor({ timeout: 20_000 })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    t.equal(overflow, 0, 'nothing wider than the screen')
    await saveScreenshot(page, 'orders-phone')
    await page.getByRole('link', { name: 'Place an order' }).first().click()
    await page.getByRole('button', { name: 'Add another item' }).click()
    await saveScreenshot(page, 'new-order-phone')
  })
}
