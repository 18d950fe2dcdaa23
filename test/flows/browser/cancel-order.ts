/**
 * Cancelling an order in the web app, in Chromium, against the whole platform: a person
 * cancels a new order (by keyboard, through the confirmation) and sees its badge turn
 * "Cancelled" without a reload, here and in another tab; a cancel the API refuses (the
 * processor took the order first) is said in words; a finished order offers no cancel.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { call, stopUntilTestEnds, waitForOrderStatus, type TestSystem } from '../../system-helper.ts'
import { isLiveStatusSocket, launchBrowser, openPage, PASSWORD, placeOrder, registerAndSignIn, saveScreenshot, tokenOf } from '../../browser-helper.ts'

export async function cancelOrderFlow (t: Test, shared: TestSystem) {
  const { gateway, system } = shared
  const browser = await launchBrowser(t)
  // Stopped, the processor leaves every order `new` (its order_created waits in the queue), so
  // nothing races the person to it. The last test starts it again, and so does the end of this
  // flow if a test failed before, so the next flow finds the whole system.
  const processor = await stopUntilTestEnds(t, shared, 'order-processor')

  const newEmail = (who: string) => `${who}-${randomUUID()}@example.com`
  const cancelButton = { name: 'Cancel order', exact: true }

  async function signIn (t: Test, email: string) {
    const page = await openPage(t, browser, gateway)
    await page.goto('/sign-in')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    return page
  }

  async function placeOrderThroughApi (token: string) {
    const placed = await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'KETTLE', quantity: 1, unit_price: 2999 }] } })
    if (placed.status !== 201) throw new Error(`POST /orders answered ${placed.status}`)
    return placed.body as { id: string }
  }

  t.test('a new order is cancelled by keyboard, and its badge turns "Cancelled" without a reload, in every tab', async t => {
    const email = newEmail('changed-mind')
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, email)
    await placeOrder(page, [['BOOK-42', '1', '12.50']])
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    const card = page.locator('.order-card').first()
    const id = (await card.getAttribute('data-order-id'))!
    t.equal(await card.locator('.badge').getAttribute('data-status'), 'new')

    // The same person's list in another tab hears of the cancel over its own WebSocket.
    const otherTab = await signIn(t, email)
    await otherTab.getByText('Live updates on').waitFor()
    const otherBadge = otherTab.locator(`[data-order-id="${id}"] .badge`)
    t.equal(await otherBadge.textContent(), 'New')

    await card.getByRole('link').click()
    await page.getByRole('heading', { name: `Order ${id.slice(0, 8)}` }).waitFor()
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true })
    const badge = page.locator('.order-facts .badge')
    t.equal(await badge.textContent(), 'New')

    // Enter opens the confirmation with focus on the safe choice; Escape closes it, changing nothing.
    await page.getByRole('button', cancelButton).focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: `Cancel order ${id.slice(0, 8)}?` })
    await dialog.waitFor()
    const focused = async () => await page.evaluate(() => document.activeElement?.textContent)
    t.equal(await focused(), 'Keep order', 'focus starts on "Keep order"')
    await saveScreenshot(page, 'cancel-confirm')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    t.equal(await focused(), 'Cancel order', 'focus is back on the button that opened it')
    t.equal(await badge.textContent(), 'New', 'Escape cancelled nothing')

    await page.keyboard.press('Enter')
    await dialog.waitFor()
    await page.keyboard.press('Tab')
    t.equal(await focused(), 'Yes, cancel order')
    await page.keyboard.press('Enter')

    await page.locator('.order-facts .badge[data-status="cancelled"]').waitFor()
    t.equal(await badge.textContent(), 'Cancelled')
    t.equal(await page.getByRole('status').filter({ hasText: 'cancelled' }).textContent(), `Order ${id.slice(0, 8)} is cancelled.`)
    t.equal(await page.getByRole('button', cancelButton).count(), 0, 'a cancelled order offers no cancel')
    t.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded')
    await saveScreenshot(page, 'order-cancelled')

    await otherTab.locator(`[data-order-id="${id}"] .badge[data-status="cancelled"]`).waitFor()
    t.equal(await otherBadge.textContent(), 'Cancelled', 'the other tab heard of it live')
    t.equal((await call(`${gateway}/orders/${id}`, { token: await tokenOf(page) })).body.status, 'cancelled', 'the API agrees')
  })

  t.test('a cancel the API refuses (the processor took the order first) is said in words, and the order shown as it is', async t => {
    const page = await openPage(t, browser, gateway)
    // This page hears nothing live, so it still offers the cancel when the API no longer allows it.
    await page.routeWebSocket(isLiveStatusSocket, () => {})
    await registerAndSignIn(page, newEmail('too-late'))
    const order = await placeOrderThroughApi(await tokenOf(page))
    await page.goto(`/my-orders/${order.id}`)
    await page.getByRole('button', cancelButton).waitFor()

    // Meanwhile the processor (here: its client credentials) takes the order.
    const { clientId, clientSecret } = system.processorClient
    const serviceToken = (await call(`${gateway}/oauth/token`, {
      method: 'POST', body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'orders:status' }
    })).body.access_token as string
    t.equal((await call(`${gateway}/orders/${order.id}`, { method: 'PATCH', token: serviceToken, body: { status: 'processing' } })).status, 200)

    await page.getByRole('button', cancelButton).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, cancel order' }).click()
    await page.getByRole('alert').waitFor()
    t.equal(await page.getByRole('alert').textContent(), 'This order can no longer be cancelled: it is already being processed.')
    await page.locator('.order-facts .badge[data-status="processing"]').waitFor()
    t.equal(await page.locator('.order-facts .badge').textContent(), 'Processing', 'the order was read again')
    t.equal(await page.getByRole('button', cancelButton).count(), 0)
    t.equal(await page.getByRole('dialog').count(), 0, 'the confirmation is closed')
    await saveScreenshot(page, 'cancel-refused')
  })

  t.test('a completed order offers no cancel', async t => {
    await processor.restart()
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, newEmail('done'))
    const token = await tokenOf(page)
    const order = await placeOrderThroughApi(token)
    await waitForOrderStatus(gateway, token, order.id, ['completed'])
    await page.goto(`/my-orders/${order.id}`)
    await page.locator('.order-facts .badge[data-status="completed"]').waitFor()
    t.equal(await page.getByRole('button', cancelButton).count(), 0)
  })
}
