import t, { type Test } from 'tap'
import { createHmac, createPublicKey, randomUUID } from 'node:crypto'
import { buildUserService, decodeToken, login, register, signWithServiceKey, unsignedToken } from '../helper.ts'

t.test('reading one\'s own account', async t => {
  const { app, db } = await buildUserService(t, {
    serviceClients: [{ client_id: 'order-processor', client_secret: 'processor-secret', scopes: ['orders:status'] }]
  })
  const ada = await register(app, 'Ada@Example.com')
  const token = await login(app, 'Ada@Example.com')
  const me = (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/users/me', headers })
  const bearer = (value: string) => ({ authorization: `Bearer ${value}` })
  const now = () => Math.floor(Date.now() / 1000)
  const validClaims = () => ({ iss: 'urn:order-platform:user-service', aud: 'order-platform', sub: ada.id, scope: 'orders', iat: now(), exp: now() + 900, jti: randomUUID() })

  const expectUnauthorized = (t: Test, res: Awaited<ReturnType<typeof me>>, message: string | RegExp = 'missing or invalid access token') => {
    t.equal(res.statusCode, 401)
    t.match(res.json(), { statusCode: 401, error: 'Unauthorized', message })
    t.equal(res.headers['www-authenticate'], 'Bearer')
  }

  t.test('with the user\'s token: 200 with id, email and created_at', async t => {
    const res = await me(bearer(token))
    t.equal(res.statusCode, 200)
    t.same(res.json(), ada)
  })

  t.test('without a token: 401 saying a token is needed', async t => {
    expectUnauthorized(t, await me(), /^missing or invalid access token: send "Authorization: Bearer <token>"$/)
  })

  t.test('with another authorization scheme: 401', async t => {
    expectUnauthorized(t, await me({ authorization: 'Basic YWRhOnB3' }), /^missing or invalid access token/)
  })

  t.test('with garbage instead of a token: 401', async t => {
    expectUnauthorized(t, await me(bearer('not-a-jwt')))
    expectUnauthorized(t, await me(bearer('a.b.c')))
    expectUnauthorized(t, await me({ authorization: 'Bearer one two' }))
  })

  t.test('with an expired token: 401 saying it expired', async t => {
    const expired = await signWithServiceKey(db, { typ: 'at+jwt' }, { ...validClaims(), iat: now() - 1000, exp: now() - 100 })
    expectUnauthorized(t, await me(bearer(expired)), 'missing or invalid access token: it has expired')
  })

  t.test('a token verified (and cached) while valid is refused once it has expired', async t => {
    const shortLived = await signWithServiceKey(db, { typ: 'at+jwt' }, { ...validClaims(), exp: now() + 60 })
    t.equal((await me(bearer(shortLived))).statusCode, 200)
    t.equal((await me(bearer(shortLived))).statusCode, 200, 'a cache hit')
    // The verifier and the claim rules read Date.now(): 61 s on, without waiting for them.
    const realNow = Date.now
    Date.now = () => realNow() + 61_000
    t.teardown(() => { Date.now = realNow })
    expectUnauthorized(t, await me(bearer(shortLived)), 'missing or invalid access token: it has expired')
  })

  t.test('with a tampered token (another subject, same signature): 401', async t => {
    const [header, , signature] = token.split('.')
    const claims = Buffer.from(JSON.stringify({ ...decodeToken(token).claims, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url')
    expectUnauthorized(t, await me(bearer(`${header}.${claims}.${signature}`)))
  })

  t.test('with an HS256 token keyed with the public key (algorithm confusion): 401', async t => {
    const { kid } = decodeToken(token).header
    const { public_jwk: jwk } = await db.withSchema('users').selectFrom('signing_keys').select('public_jwk').where('kid', '=', kid as string).executeTakeFirstOrThrow()
    const publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
    for (const secret of [publicPem, JSON.stringify(jwk)]) {
      const header = { alg: 'HS256', typ: 'JWT', kid }
      const unsigned = unsignedToken(header, validClaims()).slice(0, -1)
      const forged = `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
      expectUnauthorized(t, await me(bearer(forged)))
    }
  })

  t.test('with an unsigned token (alg none): 401', async t => {
    const { kid } = decodeToken(token).header
    expectUnauthorized(t, await me(bearer(unsignedToken({ alg: 'none', kid }, validClaims()))))
  })

  t.test('with a well-signed token from another issuer or for another audience: 401', async t => {
    expectUnauthorized(t, await me(bearer(await signWithServiceKey(db, {}, { ...validClaims(), iss: 'urn:someone-else' }))))
    expectUnauthorized(t, await me(bearer(await signWithServiceKey(db, {}, { ...validClaims(), aud: 'another-api' }))))
  })

  t.test('with a token naming a key we do not have: 401', async t => {
    expectUnauthorized(t, await me(bearer(await signWithServiceKey(db, { kid: 'unknown-kid' }, validClaims()))))
  })

  t.test('with a service token: 403', async t => {
    const res = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: 'order-processor', client_secret: 'processor-secret' } })
    const forbidden = await me(bearer(res.json().access_token))
    t.equal(forbidden.statusCode, 403)
    t.match(forbidden.json(), { statusCode: 403, error: 'Forbidden', message: /\S/ })
  })

  t.test('with a validly signed token that has no orders scope: 403', async t => {
    const res = await me(bearer(await signWithServiceKey(db, {}, { ...validClaims(), scope: 'profile' })))
    t.equal(res.statusCode, 403)
  })
})
