import t from 'tap'
import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { buildUserService, decodeToken, refreshCookie, register, signIn, type App } from '../helper.ts'

const DAY = 24 * 3600 * 1000

function refreshWithCookie (app: App, token: string | undefined, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token !== undefined && { cookie: `orders_refresh=${token}` }), ...headers },
    payload: 'grant_type=refresh_token'
  })
}

function refreshWithBody (app: App, token: string) {
  return app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: token } })
}

const me = (app: App, token: string) => app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })

t.test('signing in starts a session whose refresh token only a cookie carries', async t => {
  const { app } = await buildUserService(t)
  await register(app, 'ada@example.com')
  const res = await app.inject({ method: 'POST', url: '/login', payload: { email: 'ada@example.com', password: 'correct horse battery' } })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ['access_token', 'expires_in', 'token_type'], 'the body has no refresh token: a browser\'s script never sees it')
  const cookie = refreshCookie(res)!
  t.match(cookie, { path: '/oauth/token', httpOnly: true, sameSite: 'Strict' })
  t.notOk(cookie.secure, 'not Secure over plain http (a developer\'s machine)')
  t.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url')
  const lasts = cookie.expires!.getTime() - Date.now()
  t.ok(lasts > 29 * DAY && lasts <= 30 * DAY, 'it lasts as long as the session can: 30 days')
  const { claims } = decodeToken(res.json().access_token)
  t.match(claims, { jti: /^[0-9a-f-]{36}$/, sid: /^[0-9a-f-]{36}$/ }, 'the access token has a jti and names its session')
})

t.test('the database holds only the SHA-256 of a refresh token, never the token', async t => {
  const { app, db } = await buildUserService(t)
  await register(app, 'ada@example.com')
  const { refreshToken } = await signIn(app, 'ada@example.com')
  const { rows } = await sql<{ row: string, token_hash: Buffer }>`select t::text as row, token_hash from users.refresh_tokens t`.execute(db)
  t.equal(rows.length, 1)
  t.same(rows[0]!.token_hash, createHash('sha256').update(refreshToken).digest())
  t.notOk(rows[0]!.row.includes(refreshToken), 'no column holds the token')
})

t.test('the cookie is Secure when the browser came over https, as the gateway says, and always in production', async t => {
  const { app } = await buildUserService(t)
  await register(app, 'ada@example.com')
  const login = (headers: Record<string, string>, remoteAddress = '127.0.0.1') => app.inject({ method: 'POST', url: '/login', remoteAddress, headers, payload: { email: 'ada@example.com', password: 'correct horse battery' } })
  t.ok(refreshCookie(await login({ 'x-forwarded-proto': 'https' }))!.secure, 'X-Forwarded-Proto: https from the gateway')
  t.notOk(refreshCookie(await login({ 'x-forwarded-proto': 'https' }, '203.0.113.9'))!.secure, 'the header from anyone else is not believed')

  const production = await buildUserService(t, { config: { NODE_ENV: 'production' } })
  await register(production.app, 'ada@example.com')
  const res = await production.app.inject({ method: 'POST', url: '/login', payload: { email: 'ada@example.com', password: 'correct horse battery' } })
  t.ok(refreshCookie(res)!.secure, 'NODE_ENV=production: Secure whatever the gateway saw')
})

t.test('refreshing', async t => {
  const { app } = await buildUserService(t)
  await register(app, 'ada@example.com')

  t.test('with the cookie: a new access token of the same session, and the next refresh token in the cookie only', async t => {
    const session = await signIn(app, 'ada@example.com')
    const res = await refreshWithCookie(app, session.refreshToken)
    t.equal(res.statusCode, 200)
    t.same(Object.keys(res.json()).sort(), ['access_token', 'expires_in', 'token_type'])
    t.match(res.json(), { token_type: 'Bearer', expires_in: 900 })
    t.equal(res.headers['cache-control'], 'no-store')
    const next = refreshCookie(res)!
    t.match(next, { path: '/oauth/token', httpOnly: true, sameSite: 'Strict' })
    t.not(next.value, session.refreshToken, 'rotated')
    const before = decodeToken(session.accessToken).claims
    const after = decodeToken(res.json().access_token).claims
    t.equal(after.sid, before.sid, 'the same session')
    t.equal(after.sub, before.sub)
    t.not(after.jti, before.jti, 'a new token')
    t.equal((await me(app, res.json().access_token)).statusCode, 200)
    t.equal((await refreshWithCookie(app, next.value)).statusCode, 200, 'and the next one works once too')
  })

  t.test('with refresh_token in the body: the next one comes back in the body, and no cookie is set', async t => {
    const session = await signIn(app, 'ada@example.com')
    const res = await refreshWithBody(app, session.refreshToken)
    t.equal(res.statusCode, 200)
    t.match(res.json(), { access_token: String, token_type: 'Bearer', expires_in: 900, refresh_token: /^[A-Za-z0-9_-]{43}$/ })
    t.equal(refreshCookie(res), undefined)
    t.equal((await refreshWithBody(app, res.json().refresh_token)).statusCode, 200)
  })

  t.test('a used refresh token presented again is 401 "reused", and ends the whole session', async t => {
    const session = await signIn(app, 'ada@example.com')
    const first = await refreshWithCookie(app, session.refreshToken)
    const successor = refreshCookie(first)!.value
    const reused = await refreshWithCookie(app, session.refreshToken)
    t.equal(reused.statusCode, 401)
    t.match(reused.json(), { statusCode: 401, error: 'Unauthorized', message: /^invalid_grant: this refresh token was already used/, reason: 'reused' })
    t.match(refreshCookie(reused), { value: '' }, 'the cookie is cleared')
    t.match((await refreshWithCookie(app, successor)).json(), { reason: 'reused' }, 'its successor, unused, is refused as well: the session is over')
    t.equal((await me(app, first.json().access_token)).statusCode, 401, 'and so are its access tokens')
    t.equal((await me(app, session.accessToken)).statusCode, 401)
  })

  t.test('two refreshes with one token at once: one gets the next token, the other is reuse, never both', async t => {
    const session = await signIn(app, 'ada@example.com')
    const answers = await Promise.all([refreshWithCookie(app, session.refreshToken), refreshWithCookie(app, session.refreshToken)])
    t.same(answers.map(a => a.statusCode).sort(), [200, 401])
    t.equal(answers.find(a => a.statusCode === 401)!.json().reason, 'reused')
  })

  t.test('every refusal is 401 with a reason and a message', async t => {
    const none = await refreshWithCookie(app, undefined)
    t.equal(none.statusCode, 401)
    t.match(none.json(), { reason: 'no_session', message: /^invalid_grant: no refresh token/ })
    const unknown = await refreshWithCookie(app, 'x'.repeat(43))
    t.match(unknown.json(), { statusCode: 401, reason: 'invalid' })
    t.match((await refreshWithBody(app, 'not-a-token')).json(), { statusCode: 401, reason: 'invalid' })
  })

  t.test('a malformed refresh request is 400 and names the problem', async t => {
    const res = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: 42 } })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { message: /^invalid_request: body\/refresh_token must be string/ })
    const extra = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'refresh_token', client_secret: 'x' } })
    t.equal(extra.statusCode, 400, 'a client-credentials parameter on a refresh')
    t.notMatch(extra.json().message, /client_id/, 'the errors are about the refresh grant only')
  })
})

t.test('a session ends after its idle lifetime, and after its absolute lifetime however active', async t => {
  let now = Date.now()
  const { app } = await buildUserService(t, {
    now: () => new Date(now),
    config: { SESSION_IDLE_LIFETIME_SECONDS: 3600, SESSION_ABSOLUTE_LIFETIME_SECONDS: 3 * 3600 }
  })
  await register(app, 'ada@example.com')

  const idle = await signIn(app, 'ada@example.com')
  now += 3600 * 1000
  t.match((await refreshWithCookie(app, idle.refreshToken)).json(), { statusCode: 401, reason: 'expired' }, 'unused for an hour')

  let token = (await signIn(app, 'ada@example.com')).refreshToken
  for (let hour = 1; hour < 3; hour++) {
    now += 3600 * 1000 - 1
    const res = await refreshWithCookie(app, token)
    t.equal(res.statusCode, 200, `refreshed within the hour, ${hour} h after signing in`)
    token = refreshCookie(res)!.value
  }
  now += 3600 * 1000
  t.match((await refreshWithCookie(app, token)).json(), { reason: 'expired' }, 'three hours after signing in it ends, used or not')
})

t.test('refreshes are rate-limited per address: 429 with Retry-After and a message', async t => {
  const { app } = await buildUserService(t, { config: { SESSION_LIMIT_PER_CLIENT: 3 } })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push(await refreshWithCookie(app, undefined))
  t.same(statuses.map(res => res.statusCode), [401, 401, 401, 429])
  t.ok(Number(statuses[3]!.headers['retry-after']) > 0)
  t.match(statuses[3]!.json(), { statusCode: 429, message: /Too many requests/ })
})
