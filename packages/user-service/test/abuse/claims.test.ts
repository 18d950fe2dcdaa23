import t from 'tap'
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { buildUserService, register, signWithServiceKey } from '../helper.ts'

t.test('GET /users/me verifies every claim (a jti too): anything missing or wrong is 401, never 500', async t => {
  const { app, db } = await buildUserService(t)
  const ada = await register(app, 'ada@example.com')
  const nowSeconds = Math.floor(Date.now() / 1000)
  const choice = <T>(right: T, ...wrong: unknown[]) => fc.oneof(fc.constant({ ok: true, value: right as unknown }), ...wrong.map(w => fc.constant({ ok: false, value: w })))
  const claimSets = fc.record({
    typ: choice('at+jwt', undefined, 'JWT'),
    iss: choice('urn:order-platform:user-service', undefined, 'someone-else'),
    aud: choice('order-platform', undefined, 'elsewhere'),
    sub: choice(ada.id, undefined, 'not-a-uuid', 42),
    iat: choice(nowSeconds - 5, undefined, nowSeconds + 3_600),
    exp: choice(nowSeconds + 600, undefined, nowSeconds - 10),
    scope: choice('orders', undefined),
    jti: choice(randomUUID(), undefined, '', 42)
  })
  await fc.assert(fc.asyncProperty(claimSets, async ({ typ, ...claims }) => {
    const payload = Object.fromEntries(Object.entries(claims).map(([name, c]) => [name, c.value]))
    const token = await signWithServiceKey(db, { typ: typ.value }, payload)
    const res = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })
    const allRight = typ.ok && Object.values(claims).every(c => c.ok)
    // A token without scope is valid but may not do this: 403.
    const expected = allRight ? 200 : (Object.entries(claims).every(([name, c]) => c.ok || name === 'scope') && typ.ok ? 403 : 401)
    if (res.statusCode !== expected) throw new Error(`${JSON.stringify({ typ, ...claims })} answered ${res.statusCode}, not ${expected}: ${res.body}`)
    if (res.headers['cache-control'] !== 'no-store') throw new Error('an authenticated answer without Cache-Control: no-store')
  }), { numRuns: 120 })
  t.pass('every generated claim set got the expected answer')
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${await signWithServiceKey(db, {}, { iss: 'urn:order-platform:user-service', aud: 'order-platform', sub: ada.id, scope: 'orders', iat: nowSeconds, exp: nowSeconds + 60, jti: randomUUID() })}` } })).statusCode, 200)
})
