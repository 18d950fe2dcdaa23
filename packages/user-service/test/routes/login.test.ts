import t from 'tap'
import { buildUserService, decodeToken, register, verifiesWith } from '../helper.ts'

t.test('signing in', async t => {
  const { app } = await buildUserService(t)
  const ada = await register(app, 'Ada@Example.com', 'correct horse battery')
  const login = (payload: unknown) => app.inject({ method: 'POST', url: '/login', payload: payload as object })

  t.test('the right password answers 200 with a Bearer token valid for 900 seconds, not cached', async t => {
    const res = await login({ email: 'Ada@Example.com', password: 'correct horse battery' })
    t.equal(res.statusCode, 200)
    t.same(Object.keys(res.json()).sort(), ['access_token', 'expires_in', 'token_type'])
    t.match(res.json(), { access_token: String, token_type: 'Bearer', expires_in: 900 })
    t.equal(res.headers['cache-control'], 'no-store')
  })

  t.test('the token is an ES256 JWT with kid, issuer, audience, the account as subject and scope orders', async t => {
    const { access_token: token } = (await login({ email: 'Ada@Example.com', password: 'correct horse battery' })).json()
    const { header, claims } = decodeToken(token)
    t.match(header, { alg: 'ES256', typ: 'at+jwt', kid: String })
    t.match(claims, { iss: 'urn:order-platform:user-service', aud: 'order-platform', sub: ada.id, scope: 'orders', iat: Number, exp: Number })
    t.notOk('client_id' in claims, 'a user token names no client')
    const lifetime = (claims.exp as number) - (claims.iat as number)
    t.ok(lifetime > 0 && lifetime <= 900, `lives ${lifetime} s`)
    t.ok(Math.abs((claims.iat as number) - Date.now() / 1000) < 60, 'issued now')
  })

  t.test('the token verifies against the JWKS key named by its kid', async t => {
    const { access_token: token } = (await login({ email: 'Ada@Example.com', password: 'correct horse battery' })).json()
    const { keys } = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
    const jwk = keys.find((key: { kid: string }) => key.kid === decodeToken(token).header.kid)
    t.ok(jwk, 'the kid is published')
    t.ok(verifiesWith(token, jwk))
  })

  t.test('the email matches in any letter case', async t => {
    const res = await login({ email: 'ada@EXAMPLE.com', password: 'correct horse battery' })
    t.equal(res.statusCode, 200)
    t.equal(decodeToken(res.json().access_token).claims.sub, ada.id)
  })

  t.test('a wrong password and an unknown email get the same 401 body', async t => {
    const wrongPassword = await login({ email: 'Ada@Example.com', password: 'not the password' })
    const unknownEmail = await login({ email: 'nobody@example.com', password: 'correct horse battery' })
    const malformedEmail = await login({ email: 'not an email', password: 'correct horse battery' })
    t.equal(wrongPassword.statusCode, 401)
    t.same(wrongPassword.json(), { statusCode: 401, error: 'Unauthorized', message: 'The email or password is wrong' })
    t.same(unknownEmail.json(), wrongPassword.json())
    t.same(malformedEmail.json(), wrongPassword.json())
  })

  t.test('an unknown email takes about as long as a wrong password (no account enumeration by timing)', async t => {
    const median = async (payload: object) => {
      const times: number[] = []
      for (let i = 0; i < 3; i++) {
        const started = performance.now()
        await login(payload)
        times.push(performance.now() - started)
      }
      return times.sort((a, b) => a - b)[1]!
    }
    const wrongPassword = await median({ email: 'Ada@Example.com', password: 'not the password' })
    const unknownEmail = await median({ email: 'nobody@example.com', password: 'not the password' })
    // Without the dummy verification an unknown email answers ~100× faster; allow wide noise.
    t.ok(unknownEmail > wrongPassword / 3, `unknown email ${unknownEmail.toFixed(0)} ms, wrong password ${wrongPassword.toFixed(0)} ms`)
  })

  const invalidBodies: Array<[string, unknown]> = [
    ['no password', { email: 'Ada@Example.com' }],
    ['an unknown property', { email: 'Ada@Example.com', password: 'correct horse battery', remember: true }],
    ['a password that is a number', { email: 'Ada@Example.com', password: 12345678 }],
    ['a 129-character password', { email: 'Ada@Example.com', password: 'x'.repeat(129) }]
  ]
  for (const [name, payload] of invalidBodies) {
    t.test(`${name} is 400`, async t => {
      const res = await login(payload)
      t.equal(res.statusCode, 400)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: /\S/ })
    })
  }

  t.test('a body over 1 MiB is 413', async t => {
    const res = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(1024 * 1024) }) })
    t.equal(res.statusCode, 413)
  })
})
