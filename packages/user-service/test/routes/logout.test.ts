import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildUserService, decodeToken, refreshCookie, register, signIn, signWithServiceKey, type App } from '../helper.ts'

const logout = (app: App, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/logout', headers })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const me = (app: App, token: string) => app.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })
const refresh = (app: App, token: string) => app.inject({ method: 'POST', url: '/oauth/token', headers: { cookie: `orders_refresh=${token}` }, payload: { grant_type: 'refresh_token' } })

t.test('signing out', async t => {
  const { app, db } = await buildUserService(t, {
    serviceClients: [{ client_id: 'order-processor', client_secret: 'processor-secret', scopes: ['orders:status'] }]
  })
  const ada = await register(app, 'ada@example.com')
  await register(app, 'grace@example.com')

  t.test('ends the session: 204, the cookie cleared, its refresh tokens and access tokens refused', async t => {
    const session = await signIn(app, 'ada@example.com')
    const refreshed = await refresh(app, session.refreshToken)
    const current = refreshCookie(refreshed)!.value
    const accessToken = refreshed.json().access_token
    t.equal((await me(app, accessToken)).statusCode, 200, 'verified once (and cached) before signing out')

    const res = await logout(app, bearer(accessToken))
    t.equal(res.statusCode, 204)
    t.equal(res.headers['cache-control'], 'no-store')
    t.match(refreshCookie(res), { value: '', path: '/oauth/token', httpOnly: true, sameSite: 'Strict' }, 'the cookie is cleared on its own path')
    t.ok(refreshCookie(res)!.expires!.getTime() <= Date.now())

    t.match((await refresh(app, current)).json(), { statusCode: 401, reason: 'signed_out' }, 'the refresh token in the cookie is refused')
    const refused = await me(app, accessToken)
    t.equal(refused.statusCode, 401, 'the access token it was sent with is refused, although it was verified before')
    t.match(refused.json(), { message: 'missing or invalid access token: it has been revoked (signed out)' })
    t.equal((await me(app, session.accessToken)).statusCode, 401, 'and so is the earlier access token of the same session')
  })

  t.test('twice, with a revoked, expired, forged or no token at all: 204, and nothing else changes', async t => {
    const session = await signIn(app, 'ada@example.com')
    t.equal((await logout(app, bearer(session.accessToken))).statusCode, 204)
    t.equal((await logout(app, bearer(session.accessToken))).statusCode, 204, 'signing out twice')
    t.equal((await logout(app)).statusCode, 204, 'no token')
    t.equal((await logout(app, bearer('not.a.token'))).statusCode, 204, 'garbage')
    const now = Math.floor(Date.now() / 1000)
    const other = await signIn(app, 'ada@example.com')
    const sid = decodeToken(other.accessToken).claims.sid
    const expired = await signWithServiceKey(db, {}, { iss: 'urn:order-platform:user-service', aud: 'order-platform', sub: ada.id, scope: 'orders', sid, jti: randomUUID(), iat: now - 1000, exp: now - 100 })
    t.equal((await logout(app, bearer(expired))).statusCode, 204, 'an expired token of the session')
    t.equal((await refresh(app, other.refreshToken)).statusCode, 200, 'ends nothing: the session goes on')
  })

  t.test('one person signing out ends no one else\'s session', async t => {
    const grace = await signIn(app, 'grace@example.com')
    const adaSession = await signIn(app, 'ada@example.com')
    await logout(app, bearer(adaSession.accessToken))
    t.equal((await me(app, grace.accessToken)).statusCode, 200)
    t.equal((await refresh(app, grace.refreshToken)).statusCode, 200)
  })

  t.test('a token naming someone else\'s session ends nothing, even one signed with the real key', async t => {
    const grace = await signIn(app, 'grace@example.com')
    const { sid } = decodeToken(grace.accessToken).claims
    const now = Math.floor(Date.now() / 1000)
    const adaNamingGracesSession = await signWithServiceKey(db, {}, { iss: 'urn:order-platform:user-service', aud: 'order-platform', sub: ada.id, scope: 'orders', sid, jti: randomUUID(), iat: now, exp: now + 600 })
    t.equal((await logout(app, bearer(adaNamingGracesSession))).statusCode, 204)
    t.equal((await refresh(app, grace.refreshToken)).statusCode, 200, 'her session goes on')
  })

  t.test('a service token ends nothing', async t => {
    const serviceToken = (await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: 'order-processor', client_secret: 'processor-secret' } })).json().access_token
    const session = await signIn(app, 'ada@example.com')
    t.equal((await logout(app, bearer(serviceToken))).statusCode, 204)
    t.equal((await refresh(app, session.refreshToken)).statusCode, 200)
  })
})

t.test('an access token revoked on one replica is refused by another', async t => {
  const first = await buildUserService(t)
  const second = await buildUserService(t, { database: first.database, redis: first.redis })
  await register(first.app, 'ada@example.com')
  const session = await signIn(first.app, 'ada@example.com')
  t.equal((await me(second.app, session.accessToken)).statusCode, 200)
  const { jti } = decodeToken(session.accessToken).claims as { jti: string }
  // It reaches the other replica through Redis pub/sub: wait for that message, not for a time.
  const heard = new Promise<void>(resolve => { second.app.accessTokenDenylist.onRevoked(revoked => { if (revoked === jti) resolve() }) })
  await logout(first.app, bearer(session.accessToken))
  await heard
  t.equal((await me(second.app, session.accessToken)).statusCode, 401, 'refused there too')
})
