import t from 'tap'
import { buildUserService, decodeToken, verifiesWith } from '../helper.ts'

t.test('service tokens (client-credentials grant)', async t => {
  const { app } = await buildUserService(t, {
    serviceClients: [
      { client_id: 'order-processor', client_secret: 'processor-secret', scopes: ['orders:status'] },
      { client_id: 'reporting', client_secret: 'reporting-secret', scopes: ['orders:status'] }
    ]
  })
  const form = (body: string) => app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body })
  const json = (body: object) => app.inject({ method: 'POST', url: '/oauth/token', payload: body })
  const processor = { grant_type: 'client_credentials', client_id: 'order-processor', client_secret: 'processor-secret' }

  t.test('a form-encoded request (RFC 6749) answers 200 with a Bearer token and its scope, not cached', async t => {
    const res = await form('grant_type=client_credentials&client_id=order-processor&client_secret=processor-secret&scope=orders%3Astatus')
    t.equal(res.statusCode, 200)
    t.match(res.json(), { access_token: String, token_type: 'Bearer', expires_in: 900, scope: 'orders:status' })
    t.equal(res.headers['cache-control'], 'no-store')
  })

  t.test('a JSON request works the same', async t => {
    const res = await json({ ...processor, scope: 'orders:status' })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { token_type: 'Bearer', expires_in: 900, scope: 'orders:status' })
  })

  t.test('without a scope, the client gets all of its scopes', async t => {
    const res = await json(processor)
    t.equal(res.statusCode, 200)
    t.equal(res.json().scope, 'orders:status')
  })

  t.test('the token names the client as subject and client_id, with the granted scope, signed like user tokens', async t => {
    const token = (await json(processor)).json().access_token
    const { header, claims } = decodeToken(token)
    t.match(header, { alg: 'ES256', kid: String })
    t.match(claims, { iss: 'urn:order-platform:user-service', aud: 'order-platform', sub: 'order-processor', client_id: 'order-processor', scope: 'orders:status' })
    t.ok((claims.exp as number) - (claims.iat as number) <= 900)
    const { keys } = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
    t.ok(verifiesWith(token, keys.find((key: { kid: string }) => key.kid === header.kid)))
  })

  t.test('a wrong secret is 401 invalid_client', async t => {
    const res = await json({ ...processor, client_secret: 'reporting-secret' })
    t.equal(res.statusCode, 401)
    t.same(res.json(), { statusCode: 401, error: 'Unauthorized', message: 'invalid_client: unknown client or wrong client secret' })
  })

  t.test('an unknown client gets the same 401 as a wrong secret', async t => {
    const unknown = await form('grant_type=client_credentials&client_id=intruder&client_secret=processor-secret')
    const wrongSecret = await form('grant_type=client_credentials&client_id=order-processor&client_secret=guess')
    t.equal(unknown.statusCode, 401)
    t.same(unknown.json(), wrongSecret.json())
  })

  t.test('another grant type is 400 unsupported_grant_type', async t => {
    const res = await form('grant_type=password&client_id=order-processor&client_secret=processor-secret')
    t.equal(res.statusCode, 400)
    t.same(res.json(), { statusCode: 400, error: 'Bad Request', message: 'unsupported_grant_type: only "client_credentials" and "refresh_token" are supported' })
  })

  t.test('a scope the client was not granted is 400 invalid_scope', async t => {
    for (const scope of ['orders', 'admin', 'orders:status orders']) {
      const res = await json({ ...processor, scope })
      t.equal(res.statusCode, 400, scope)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: /^invalid_scope: / })
    }
  })

  const invalidRequests: Array<[string, () => ReturnType<typeof form>]> = [
    ['no grant_type', () => form('client_id=order-processor&client_secret=processor-secret')],
    ['no client_secret', () => json({ grant_type: 'client_credentials', client_id: 'order-processor' })],
    ['an unknown parameter', () => json({ ...processor, username: 'ada' })],
    ['a parameter given twice', () => form('grant_type=client_credentials&client_id=order-processor&client_id=reporting&client_secret=processor-secret')],
    ['a client_secret that is a number', () => json({ ...processor, client_secret: 42 })],
    ['a malformed JSON body', () => app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' })]
  ]
  for (const [name, send] of invalidRequests) {
    t.test(`${name} is 400 with a message`, async t => {
      const res = await send()
      t.equal(res.statusCode, 400)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: /\S/ })
    })
  }

  t.test('a body over 1 MiB is 413', async t => {
    const res = await form(`grant_type=client_credentials&client_id=order-processor&client_secret=${'x'.repeat(1024 * 1024)}`)
    t.equal(res.statusCode, 413)
  })
})

t.test('with no SERVICE_CLIENTS configured, every client is 401', async t => {
  const { app } = await buildUserService(t)
  const res = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: 'order-processor', client_secret: 'processor-secret' } })
  t.equal(res.statusCode, 401)
})
