/**
 * Sessions in the browser: the refresh token in an HttpOnly cookie no script sees, the access
 * token in memory only, a reload that keeps the person signed in, a token refreshed before it
 * expires (the page's clock moved on), signing out for good, a reused refresh token that ends
 * the session everywhere, and two tabs that share the cookie without tripping over each other.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { Page, WebSocketRoute } from 'playwright-core'
import { ACCESS_TOKEN_TTL_SECONDS } from '@orders/contracts'
import { REFRESH_COOKIE, TOKEN_PATH } from '@orders/contracts/sessions'
import { call, type TestSystem } from '../../system-helper.ts'
import { isLiveStatusSocket, launchBrowser, openPage, openTabBeside, refreshCookieOf, registerAndSignIn, tokenOf } from '../../browser-helper.ts'

const newEmail = (who: string) => `${who}-${randomUUID()}@example.com`

/** A refresh through the gateway with this refresh token, as a browser (or a thief) would send it. */
async function refreshWith (gateway: string, refreshToken: string) {
  return await call(`${gateway}${TOKEN_PATH}`, { method: 'POST', headers: { cookie: `${REFRESH_COOKIE}=${refreshToken}` }, body: { grant_type: 'refresh_token' } })
}

/**
 * Resolves once two requests in a row are refused (401): the gateway sends them to both
 * order-service replicas in turn. Within 5 s, or it throws.
 */
async function refusedByBothReplicas (status: () => Promise<number>): Promise<void> {
  const deadline = Date.now() + 5_000
  for (let inARow = 0; inARow < 2;) {
    inARow = await status() === 401 ? inARow + 1 : 0
    if (Date.now() > deadline) throw new Error('a revoked token was still accepted after 5 s')
  }
}

/** Resolves with the next refresh the page makes and its answer. */
async function nextRefresh (page: Page) {
  return await page.waitForResponse(response => new URL(response.url()).pathname === TOKEN_PATH && response.request().method() === 'POST')
}

export async function sessionsFlow (t: Test, { gateway }: TestSystem) {
  const browser = await launchBrowser(t)

  t.test('signed in, a reload keeps the person signed in; no script ever holds the refresh token', async t => {
    const page = await openPage(t, browser, gateway)
    const email = newEmail('reloader')
    const loginAnswer = page.waitForResponse(response => new URL(response.url()).pathname === '/login')
    await registerAndSignIn(page, email)
    t.same(Object.keys(await (await loginAnswer).json()).sort(), ['access_token', 'expires_in', 'token_type'], 'the login answer\'s body has no refresh token')
    const cookie = await refreshCookieOf(page)
    t.match(cookie, { httpOnly: true, sameSite: 'Strict', path: TOKEN_PATH, secure: false }, 'HttpOnly, SameSite=Strict, sent to the token endpoint only (plain http: not Secure)')
    t.notMatch(await page.evaluate(() => document.cookie), REFRESH_COOKIE, 'script cannot read it')
    t.same(await page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0], 'nothing in storage')

    const restored = nextRefresh(page)
    await page.reload()
    t.equal((await restored).status(), 200, 'the reload asked for a new access token')
    await page.getByRole('heading', { name: 'My orders' }).waitFor()
    t.equal(await page.locator('.site-header__email').textContent(), email, 'and is still signed in as the same person')
    t.not((await refreshCookieOf(page))!.value, cookie!.value, 'with the next refresh token')
  })

  t.test('the access token is refreshed before it expires, and the live connection moves to the new one when the old one ends', async t => {
    const page = await openPage(t, browser, gateway)
    // The page's clock runs on, but can be moved: 14 minutes pass in an instant.
    await page.clock.install()
    const sockets: WebSocketRoute[] = []
    let opened: (socket: WebSocketRoute) => void = () => {}
    await page.routeWebSocket(isLiveStatusSocket, ws => { sockets.push(ws); ws.connectToServer(); opened(ws) })
    await registerAndSignIn(page, newEmail('active'))
    await page.getByText('Live updates on').waitFor()
    const first = await tokenOf(page)

    const refreshed = nextRefresh(page)
    await page.clock.fastForward((ACCESS_TOKEN_TTL_SECONDS - 59) * 1000)
    t.equal((await refreshed).status(), 200, 'refreshed in the token\'s last minute')
    const second = await tokenOf(page)
    t.not(second, first)
    const listed = page.waitForRequest(request => new URL(request.url()).pathname === '/orders')
    await page.getByRole('link', { name: 'Place an order' }).first().click()
    await page.getByRole('link', { name: 'My orders' }).click()
    t.equal((await listed).headers().authorization, `Bearer ${second}`, 'the API is called with the new token')

    // The server closes a socket when the token that opened it expires (4401): the app opens the next with the new token.
    const reopened = new Promise<WebSocketRoute>(resolve => { opened = resolve })
    await sockets[0]!.close({ code: 4401, reason: 'access token expired' })
    t.equal(new URL((await reopened).url()).searchParams.get('access_token'), second)
    await page.getByText('Live updates on').waitFor()
    t.equal(await page.getByRole('heading', { name: 'My orders' }).count(), 1, 'still signed in')
  })

  t.test('signing out ends the session: the old refresh cookie and the old access token are refused', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, newEmail('leaving'))
    const refreshToken = (await refreshCookieOf(page))!.value
    const accessToken = await tokenOf(page)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.equal(await page.getByRole('status').filter({ hasText: 'signed out' }).textContent(), 'You have signed out.')
    t.equal(await refreshCookieOf(page), undefined, 'the cookie is gone from the browser')

    const refused = await refreshWith(gateway, refreshToken)
    t.equal(refused.status, 401)
    t.equal(refused.body.reason, 'signed_out', 'a copy of the old refresh token is refused')
    // The revocation reaches each replica through Redis within moments; from outside, that shows only in their answers.
    await refusedByBothReplicas(async () => (await call(`${gateway}/orders`, { token: accessToken })).status)
    t.pass('and so is the old access token, by both order-service replicas')
    await page.reload()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.pass('a reload does not sign back in')
  })

  t.test('a reused refresh token ends the session, and the open app signs out by itself, saying why', async t => {
    const page = await openPage(t, browser, gateway)
    await registerAndSignIn(page, newEmail('stolen'))
    const stolen = (await refreshCookieOf(page))!.value
    const rotated = nextRefresh(page)
    await page.reload() // the app exchanges the cookie's token for the next one
    t.equal((await rotated).status(), 200)
    await page.getByText('Live updates on').waitFor()

    // Someone else presents the copy: it was used already, so the whole session ends.
    const reuse = await refreshWith(gateway, stolen)
    t.equal(reuse.status, 401)
    t.equal(reuse.body.reason, 'reused')
    // Its access tokens are revoked, so the server closes the app's socket, and the app's refresh is refused.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.equal(await page.getByRole('status').filter({ hasText: 'safety' }).textContent(),
      'You were signed out for your safety: your session was used from somewhere else. Please sign in again.')
  })

  t.test('two tabs share the session: reloading both at once keeps both signed in, and signing out in one signs out the other', async t => {
    const one = await openPage(t, browser, gateway)
    const email = newEmail('two-tabs')
    await registerAndSignIn(one, email)
    const two = await openTabBeside(t, one)
    await two.goto('/')
    await two.getByRole('heading', { name: 'My orders' }).waitFor()

    // Both refresh with the one cookie at the same moment: they take turns, so neither presents a used token.
    const refreshes = [nextRefresh(one), nextRefresh(two)]
    await Promise.all([one.reload(), two.reload()])
    t.same(await Promise.all(refreshes.map(async answer => (await answer).status())), [200, 200])
    for (const tab of [one, two]) {
      await tab.getByRole('heading', { name: 'My orders' }).waitFor()
      t.equal(await tab.locator('.site-header__email').textContent(), email)
    }

    await one.getByRole('button', { name: 'Sign out' }).click()
    await one.getByRole('heading', { name: 'Sign in' }).waitFor()
    await two.getByRole('heading', { name: 'Sign in' }).waitFor()
    t.equal(await two.getByRole('status').filter({ hasText: 'another tab' }).textContent(), 'You signed out in another tab. Please sign in again.')
  })

  t.test('the gateway, not the client, says whether the browser came over https', async t => {
    const email = newEmail('proto')
    await call(`${gateway}/users`, { method: 'POST', body: { email, password: 'correct horse battery' } })
    const answer = await call(`${gateway}/login`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' }, body: { email, password: 'correct horse battery' } })
    t.equal(answer.status, 200)
    const setCookie = answer.headers.get('set-cookie') ?? ''
    t.match(setCookie, new RegExp(`^${REFRESH_COOKIE}=[A-Za-z0-9_-]{43}; `))
    t.notMatch(setCookie, /Secure/i, 'plain http to the gateway: not Secure, whatever the client claimed')
  })
}
