/**
 * What the person reads when something goes wrong — always a sentence, never JSON — and how
 * the app handles the session and the live connection: a session ended elsewhere leads back to
 * sign in, saying why; the WebSocket's 4401 gets a new token; and after the socket drops the
 * list catches up with what happened meanwhile. More on sessions: sessions.ts.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { WebSocketRoute } from 'playwright-core'
import { LIVE_STATUS_CLOSE_CODES } from '@orders/contracts/live-status'
import { call, registerAndLogin, waitForOrderStatus, type TestSystem } from '../../system-helper.ts'
import { isLiveStatusSocket, launchBrowser, openPage, PASSWORD, placeOrder, registerAndSignIn, tokenOf } from '../../browser-helper.ts'

const newEmail = (who: string) => `${who}-${randomUUID()}@example.com`

export async function errorsAndSessionFlow (t: Test, { gateway }: TestSystem) {
  const browser = await launchBrowser(t)

  t.test('a wrong password says so', async t => {
    const email = newEmail('forgetful')
    await registerAndLogin(gateway, email)
    const page = await openPage(t, browser, gateway)
    await page.goto('/sign-in')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill('not my password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    t.equal(await page.getByRole('alert').textContent(), 'Wrong email or password.')
    t.equal(new URL(page.url()).pathname, '/sign-in', 'still on the sign-in page')
  })

  t.test('an email that is already registered says so, at the email field', async t => {
    const email = newEmail('twice')
    await registerAndLogin(gateway, email)
    const page = await openPage(t, browser, gateway)
    await page.goto('/register')
    await page.getByLabel('Email').fill(email.toUpperCase())
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    t.match(await page.getByRole('alert').textContent(), /An account with this email already exists/)
    const field = page.getByLabel('Email')
    t.equal(await field.getAttribute('aria-invalid'), 'true')
    t.equal(await page.locator('#email-error').textContent(), 'This email is already registered.')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'email', 'focus is on the field to fix')
  })

  t.test("the server's validation rules read as sentences at their fields", async t => {
    const page = await openPage(t, browser, gateway)
    await page.goto('/register')
    await page.getByLabel('Email').fill('not-an-email')
    await page.getByLabel('Password').fill('short')
    await page.getByRole('button', { name: 'Create account' }).click()
    t.equal(await page.locator('#email-error').textContent(), 'Email must be an email address, like ada@example.com.')
    t.notMatch(await page.locator('main').textContent(), /[{}]|body\//, 'no JSON, no schema paths')

    await page.getByLabel('Email').fill(newEmail('rules'))
    await page.getByRole('button', { name: 'Create account' }).click()
    t.equal(await page.locator('#password-error').textContent(), 'Password must have at least 8 characters.')
  })

  t.test('order rows: every problem is caught before sending, at its row, with the server\'s limits', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, newEmail('typo'))
    await placeOrder(page, [['BOOK-42', '1', '4.999']])
    const row1 = page.getByRole('group', { name: 'Item 1' })
    t.equal(await row1.locator('.field__error').textContent(), 'Unit price must be an amount like 4.99.')

    await row1.getByLabel('Unit price').fill('4.99')
    await page.getByRole('button', { name: 'Add another item' }).click()
    const row2 = page.getByRole('group', { name: 'Item 2' })
    await row2.getByLabel('SKU').fill('two words')
    await row2.getByLabel('Unit price').fill('1')
    await page.getByRole('button', { name: 'Place order' }).click()
    t.equal(await row2.locator('.field__error').textContent(), "SKU may contain letters, digits, '.', '_' and '-'.")
    t.equal(await row2.getByLabel('SKU').getAttribute('aria-invalid'), 'true')
    t.equal(await page.getByRole('alert').textContent(), 'One field needs attention.')

    await row2.getByLabel('SKU').fill('TWO-WORDS')
    await row2.getByLabel('Quantity').fill('1001')
    await page.getByRole('button', { name: 'Place order' }).click()
    t.equal(await row2.locator('.field__error').textContent(), 'Quantity must be at most 1000.')
    t.equal(await page.locator('.order-total output').textContent(), '€4.99', 'a row the server would refuse is left out of the total')

    await row2.getByLabel('Quantity').fill('2')
    await page.getByRole('button', { name: 'Place order' }).click()
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    t.equal(await page.locator('.order-card__total').first().textContent(), '€6.99')
  })

  t.test('a session ended elsewhere sends the person to sign in, says why, and back afterwards', async t => {
    const page = await openPage(t, browser, gateway)
    const email = newEmail('ended')
    await registerAndSignIn(page, email)
    // Signed out with the app's own token, as another tab would.
    t.equal((await call(`${gateway}/logout`, { method: 'POST', token: await tokenOf(page) })).status, 204)
    // A page opened afterwards finds the session over (the refresh is refused, and says why).
    await page.goto('/new-order')
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.equal(await page.getByRole('status').filter({ hasText: 'signed out' }).textContent(), 'You signed out in another tab. Please sign in again.')

    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Place an order' }).waitFor()
    t.equal(new URL(page.url()).pathname, '/new-order', 'back on the page they were on')
  })

  t.test(`WebSocket close code ${LIVE_STATUS_CLOSE_CODES.tokenExpired} (token expired): the app reconnects with a new token and stays signed in`, async t => {
    const page = await openPage(t, browser, gateway)
    // The server closes with 4401 when the token expires; here a stand-in socket does so once
    // the person is signed in and it is open. The next socket is the real one.
    const urls: string[] = []
    let first: WebSocketRoute | undefined
    let reconnected: () => void = () => {}
    const secondSocket = new Promise<void>(resolve => { reconnected = resolve })
    await page.routeWebSocket(isLiveStatusSocket, ws => {
      urls.push(ws.url())
      if (urls.length === 1) { first = ws; return }
      ws.connectToServer()
      reconnected()
    })
    await registerAndSignIn(page, newEmail('socket-expired'))
    await page.getByText('Live updates on').waitFor()
    await first!.close({ code: LIVE_STATUS_CLOSE_CODES.tokenExpired, reason: 'access token expired' })
    await secondSocket
    await page.getByText('Live updates on').waitFor()
    t.equal(urls.length, 2, 'reconnected once')
    const tokenIn = (url: string) => new URL(url).searchParams.get('access_token')
    t.not(tokenIn(urls[1]!), tokenIn(urls[0]!), 'with a new access token')
    t.equal(tokenIn(urls[1]!), await tokenOf(page), 'the one the refresh brought')
    t.equal(await page.getByRole('heading', { name: 'My orders' }).count(), 1, 'still signed in')
  })

  t.test('after the socket drops, the list shows what changed meanwhile', async t => {
    const page = await openPage(t, browser, gateway)
    let first: WebSocketRoute | undefined
    let connections = 0
    await page.routeWebSocket(isLiveStatusSocket, ws => {
      connections++
      // The first socket hears nothing (as if the network swallowed it); later ones are real.
      if (connections === 1) first = ws
      else ws.connectToServer()
    })
    await registerAndSignIn(page, newEmail('offline'))
    await page.getByText('You have no orders yet.').waitFor()

    // An order placed elsewhere (another tab, the API) and finished while this page heard nothing.
    const token = await tokenOf(page)
    const order = (await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'ELSEWHERE', quantity: 1, unit_price: 250 }] } })).body
    await waitForOrderStatus(gateway, token, order.id, ['completed'])
    t.equal(await page.locator('.order-card').count(), 0, 'not on screen yet')

    await first!.close({ code: LIVE_STATUS_CLOSE_CODES.slowConsumer, reason: 'too many unsent messages; reconnect and reload' })
    await page.locator(`[data-order-id="${order.id}"] .badge[data-status="completed"]`).waitFor()
    t.equal(connections, 2, 'reconnected once')
    await page.getByText('Live updates on').waitFor()
  })

  t.test('an unknown page and an unknown order say so in words', async t => {
    const page = await openPage(t, browser, gateway)
    await page.goto('/no-such-page')
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()
    await registerAndSignIn(page, newEmail('lost'))
    await page.goto(`/my-orders/${randomUUID()}`)
    t.equal(await page.getByRole('alert').textContent(), 'There is no such order among yours.')
  })
}
