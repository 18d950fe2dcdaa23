/**
 * The grace period as a person meets it, in Chromium: the order's page shows the time left
 * next to "Cancel order" and counts it down; a cancel inside it wins although the processor
 * runs; after it the order is processed and the page follows live. Its own system, because the
 * shared one (platform.test.ts) runs without a grace period so its flows need not wait.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { call, startTestSystem, waitForLogLine, waitForOrderStatus } from './system-helper.ts'
import { launchBrowser, openPage, placeOrder, registerAndSignIn, saveScreenshot, tokenOf } from './browser-helper.ts'

const GRACE_MS = 4_000

const { gateway, lines } = await startTestSystem(t, { ORDER_GRACE_PERIOD_MS: String(GRACE_MS) })
const browser = await launchBrowser(t)
const cancelButton = { name: 'Cancel order', exact: true }

t.test('the time left is shown next to "Cancel order" and counts down; a cancel inside it wins', async t => {
  const page = await openPage(t, browser, gateway)
  await registerAndSignIn(page, `hesitant-${randomUUID()}@example.com`)
  await placeOrder(page, [['KETTLE', '1', '29.99']])
  await page.getByRole('heading', { name: 'My orders' }).waitFor()
  const card = page.locator('.order-card').first()
  const id = (await card.getAttribute('data-order-id'))!
  await card.getByRole('link').click()

  const timeLeft = page.locator('.cancel-order__time')
  await timeLeft.waitFor()
  t.match(await timeLeft.textContent(), /^Processing starts in [1-4] s; until then a cancel always succeeds\.$/)
  t.equal(await page.getByRole('button', cancelButton).getAttribute('aria-describedby'), 'cancel-order-time', 'the button is described by the time left')
  const first = Number(await timeLeft.getAttribute('data-seconds-left'))
  await page.waitForFunction(seconds => Number(document.querySelector('.cancel-order__time')?.getAttribute('data-seconds-left')) < seconds, first)
  t.ok(Number(await timeLeft.getAttribute('data-seconds-left')) < first, 'it counts down')
  await saveScreenshot(page, 'cancel-countdown')

  const from = lines.length
  await page.getByRole('button', cancelButton).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Yes, cancel order' }).click()
  await page.locator('.order-facts .badge[data-status="cancelled"]').waitFor()
  // When the window ends the processor gets the order, finds it cancelled and leaves it.
  await waitForLogLine(lines, new RegExp(`order already processed.*${id}|${id}.*order already processed`), { from, timeoutMs: GRACE_MS + 10_000 })
  t.equal((await call(`${gateway}/orders/${id}`, { token: await tokenOf(page) })).body.status, 'cancelled', 'still cancelled after the window')
  t.equal(await page.locator('.order-facts .badge').textContent(), 'Cancelled')
})

t.test('after the window the order is processed, and its page follows live', async t => {
  const page = await openPage(t, browser, gateway)
  await registerAndSignIn(page, `patient-${randomUUID()}@example.com`)
  const token = await tokenOf(page)
  const placed = await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'TEA', quantity: 2, unit_price: 350 }] } })
  t.equal(placed.status, 201)
  const order = placed.body as { id: string, created_at: string, cancellable_until: string }
  t.equal(Date.parse(order.cancellable_until) - Date.parse(order.created_at), GRACE_MS)
  await page.goto(`/my-orders/${order.id}`)
  await page.locator('.cancel-order__time').waitFor()

  await page.locator('.order-facts .badge[data-status="completed"]').waitFor({ timeout: GRACE_MS + 15_000 })
  t.equal(await page.getByRole('button', cancelButton).count(), 0, 'no cancel once processed')
  const { order: done } = await waitForOrderStatus(gateway, token, order.id, ['completed'])
  t.ok(Date.parse(done.updated_at) >= Date.parse(order.cancellable_until), 'processed only after the window')
})
