import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import pino from 'pino'
import { AccessTokenDenylist, createServiceInstance, registerServiceBasics } from '@orders/platform'
import { SCOPES } from '@orders/contracts'
import { oneWrongAtATime, startTestTokenIssuer, userTokenClaimChoices, type TestTokenIssuer } from '@orders/test-support'
import authentication from '../../src/plugins/authentication.ts'

const TEN_MINUTES = 10 * 60_000

/** The plugin alone, on a clock the test moves, with one route that needs a user token. */
async function buildVerifier (t: Test, issuer: TestTokenIssuer) {
  let now = Date.now()
  const app = createServiceInstance({ service: 'auth-test', logLevel: 'silent' })
  await registerServiceBasics(app, { title: 'auth-test', description: 'the authentication plugin alone', readiness: {} })
  const denylist = await AccessTokenDenylist.open({ log: pino({ level: 'silent' }) })
  await app.register(authentication, { userServiceUrl: issuer.url, denylist, now: () => now })
  app.get('/me', { onRequest: app.requireScope(SCOPES.user) }, async request => ({ sub: request.user.sub }))
  await app.ready()
  t.teardown(async () => { await app.close() })
  return {
    app,
    denylist,
    advance (ms: number) { now += ms },
    get: async (token: string) => await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } })
  }
}

t.test('forged kids never lock out a valid token', async t => {
  const issuer = await startTestTokenIssuer()
  t.teardown(issuer.close)
  const verifier = await buildVerifier(t, issuer)
  const valid = issuer.userToken()
  t.equal((await verifier.get(valid)).statusCode, 200, 'the first request fetches the JWKS')
  const fetchesBefore = issuer.jwksRequests

  // Past the cache lifetime, then a flood of random kids mixed with valid requests.
  verifier.advance(TEN_MINUTES + 1)
  const answers = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
    const token = i % 3 === 0 ? valid : issuer.userToken(undefined, { header: { kid: randomUUID() } })
    return { valid: i % 3 === 0, status: (await verifier.get(token)).statusCode }
  }))
  t.same(answers.filter(a => a.valid && a.status !== 200), [], 'no valid request refused')
  t.ok(answers.filter(a => !a.valid).every(a => a.status === 401), 'every forged kid is 401')
  t.ok(issuer.jwksRequests - fetchesBefore <= 1, `${issuer.jwksRequests - fetchesBefore} JWKS fetch(es) for 200 forged kids`)

  // Later intervals: still at most one fetch each, and valid tokens still pass.
  for (let interval = 0; interval < 3; interval++) {
    verifier.advance(2_001)
    const before = issuer.jwksRequests
    const statuses = await Promise.all(Array.from({ length: 50 }, async () => (await verifier.get(issuer.userToken(undefined, { header: { kid: randomUUID() } }))).statusCode))
    t.ok(statuses.every(s => s === 401))
    t.ok(issuer.jwksRequests - before <= 1, 'one fetch per interval at most')
    t.equal((await verifier.get(valid)).statusCode, 200)
  }
})

t.test('a known key stays usable while the issuer cannot be reached', async t => {
  const issuer = await startTestTokenIssuer()
  const verifier = await buildVerifier(t, issuer)
  const valid = issuer.userToken()
  t.equal((await verifier.get(valid)).statusCode, 200)
  await issuer.close()
  verifier.advance(TEN_MINUTES + 1)
  t.equal((await verifier.get(valid)).statusCode, 200, 'the refetch fails; the key it knows still verifies')
  t.equal((await verifier.get(valid)).statusCode, 200)
})

t.test('strict claims: anything missing or wrong is 401, never 500, and only a fully valid token passes', async t => {
  const issuer = await startTestTokenIssuer()
  t.teardown(issuer.close)
  const verifier = await buildVerifier(t, issuer)
  const nowSeconds = Math.floor(Date.now() / 1000)
  // Each claim either right, missing, or wrong in some way.
  const choice = <T>(right: T, ...wrong: unknown[]) => fc.oneof(fc.constant({ ok: true, value: right as unknown }), ...wrong.map(w => fc.constant({ ok: false, value: w })))
  const claimSets = fc.record({
    typ: choice('at+jwt', undefined, 'JWT', 'id+jwt'),
    iss: choice('urn:order-platform:user-service', undefined, 'someone-else', 7),
    aud: choice('order-platform', undefined, 'elsewhere', ['elsewhere']),
    sub: choice(randomUUID(), undefined, 'not-a-uuid', '', 42, `urn:uuid:${randomUUID()}`),
    iat: choice(nowSeconds - 5, undefined, nowSeconds + 3_600, 'yesterday'),
    exp: choice(nowSeconds + 600, undefined, nowSeconds - 10, 'tomorrow'),
    scope: choice('orders', 7),
    jti: choice(randomUUID(), undefined, '', 12)
  })
  await fc.assert(fc.asyncProperty(claimSets, async claims => {
    const header: Record<string, unknown> = { typ: claims.typ.value }
    const payload: Record<string, unknown> = {}
    for (const name of ['iss', 'aud', 'sub', 'iat', 'exp', 'scope', 'jti'] as const) payload[name] = claims[name].value
    // The issuer fills in iss, aud, iat and exp unless told otherwise: undefined removes them.
    const token = issuer.signToken({}, { header, claims: payload })
    const allRight = Object.values(claims).every(c => c.ok)
    const res = await verifier.get(token)
    if (res.statusCode !== (allRight ? 200 : 401)) throw new Error(`${JSON.stringify(claims)} answered ${res.statusCode} ${res.body}`)
  }), { numRuns: 150 })
  t.equal((await verifier.get(issuer.userToken())).statusCode, 200, 'the issuer\'s ordinary token passes')
})

t.test('every answer to a request with a token is no-store, refusals included', async t => {
  const issuer = await startTestTokenIssuer()
  t.teardown(issuer.close)
  const verifier = await buildVerifier(t, issuer)
  t.equal((await verifier.get(issuer.userToken())).headers['cache-control'], 'no-store')
  t.equal((await verifier.get('not-a-token')).headers['cache-control'], 'no-store')
})

t.test('a verified token is remembered, yet refused once revoked or expired', async t => {
  const issuer = await startTestTokenIssuer()
  t.teardown(issuer.close)
  const verifier = await buildVerifier(t, issuer)
  const nowSeconds = Math.floor(Date.now() / 1000)
  const exp = nowSeconds + 60
  const revokedLater = { jti: randomUUID(), exp }
  const expiringLater = { jti: randomUUID(), exp }
  const [toRevoke, toExpire] = [revokedLater, expiringLater].map(claims => issuer.userToken(undefined, { claims })) as [string, string]
  for (const token of [toRevoke, toExpire]) {
    t.equal((await verifier.get(token)).statusCode, 200, 'verified, and now in the cache')
    t.equal((await verifier.get(token)).statusCode, 200, 'a cache hit')
  }

  await verifier.denylist.revoke([{ jti: revokedLater.jti, expiresAt: exp }])
  const revoked = await verifier.get(toRevoke)
  t.equal(revoked.statusCode, 401, 'revoked after it was cached: refused')
  t.match(revoked.json(), { message: 'missing or invalid access token: it has been revoked (signed out)' })
  t.equal((await verifier.get(toExpire)).statusCode, 200, 'other tokens still pass')

  // fast-jwt and the claim rules read Date.now(): past the token's exp, without waiting for it.
  const realNow = Date.now
  Date.now = () => realNow() + 61_000
  t.teardown(() => { Date.now = realNow })
  const expired = await verifier.get(toExpire)
  t.equal(expired.statusCode, 401, 'past its exp, the cached token is refused')
  t.match(expired.json(), { message: 'missing or invalid access token: it has expired' })
})

// Each rule of access-token-claims.ts on its own: a token with one claim wrong and all others
// right. The property test above mixes them at random and rarely draws a token with exactly one
// claim wrong, so only this shows that dropping any single rule lets a bad token in.
t.test('a token with any one claim missing or wrong, the rest right, is 401', async t => {
  const issuer = await startTestTokenIssuer()
  t.teardown(async () => { await issuer.close() })
  const verifier = await buildVerifier(t, issuer)
  for (const { name, typ, claims } of oneWrongAtATime(userTokenClaimChoices(randomUUID()))) {
    const res = await verifier.get(issuer.signToken({}, { header: { typ }, claims }))
    t.equal(res.statusCode, name === 'every claim right' ? 200 : 401, name)
  }
})
