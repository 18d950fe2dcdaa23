import t from 'tap'
import { createTestDatabase } from '@orders/test-support'
import { buildUserService, decodeToken, login, register, verifiesWith } from '../helper.ts'

t.test('the JWKS', async t => {
  const { app } = await buildUserService(t)
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })

  t.test('answers 200 with one ES256 signing key, cacheable for a few minutes', async t => {
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(res.headers['cache-control'], 'public, max-age=300')
    const { keys } = res.json()
    t.equal(keys.length, 1)
    t.match(keys[0], { kty: 'EC', crv: 'P-256', x: String, y: String, kid: String, alg: 'ES256', use: 'sig' })
  })

  t.test('publishes public parts only: no private member d, nothing beyond the JWK members', async t => {
    for (const key of res.json().keys) {
      t.notOk('d' in key)
      t.same(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
    }
    t.notMatch(res.body, /PRIVATE KEY/)
  })
})

t.test('signing keys survive a restart', async t => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const first = await buildUserService(t, { database })
  await register(first.app, 'ada@example.com')
  const token = await login(first.app, 'ada@example.com')
  const firstKeys = (await first.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys
  await first.app.close()

  const second = await buildUserService(t, { database })
  const secondKeys = (await second.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys

  t.test('a second instance on the same database publishes the same key', async t => {
    t.same(secondKeys, firstKeys)
  })

  t.test('and signs with it: the same kid, verifiable with the published key', async t => {
    const newToken = await login(second.app, 'ada@example.com')
    t.equal(decodeToken(newToken).header.kid, firstKeys[0].kid)
    t.ok(verifiesWith(newToken, secondKeys[0]))
  })

  t.test('and accepts tokens the first instance issued', async t => {
    const res = await second.app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 200)
  })
})
