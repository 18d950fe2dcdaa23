import t from 'tap'
import fc from 'fast-check'
import { oneWrongAtATime, userTokenClaimChoices, type ClaimChoice } from '@orders/test-support'
import { buildUserService, register, signWithServiceKey } from '../helper.ts'

t.test('GET /users/me verifies every claim (a jti too): anything missing or wrong is 401, never 500', async t => {
  const { app, db } = await buildUserService(t)
  const ada = await register(app, 'ada@example.com')
  const choices = userTokenClaimChoices(ada.id)
  const answer = async (typ: unknown, claims: Record<string, unknown>) => {
    const token = await signWithServiceKey(db, { typ }, claims)
    const res = await app.inject({ method: 'GET', url: '/users/me', headers: { authorization: `Bearer ${token}` } })
    if (res.headers['cache-control'] !== 'no-store') throw new Error('an authenticated answer without Cache-Control: no-store')
    return res.statusCode
  }

  t.test('each rule on its own: one claim wrong and the others right is 401', async t => {
    for (const { name, typ, claims } of oneWrongAtATime(choices)) {
      t.equal(await answer(typ, claims), name === 'every claim right' ? 200 : 401, name)
    }
    const { scope: _, ...withoutScope } = oneWrongAtATime(choices)[0]!.claims
    t.equal(await answer('at+jwt', withoutScope), 403, 'no scope: a valid token that may not do this')
  })

  t.test('any mix of right and wrong claims: 200 only when all are right, 401 otherwise', async t => {
    const choice = ({ right, wrong }: ClaimChoice) => fc.oneof(fc.constant({ ok: true, value: right }), ...wrong.map(value => fc.constant({ ok: false, value })))
    const claimSets = fc.record(Object.fromEntries(Object.entries(choices).map(([name, c]) => [name, choice(c)])))
    await fc.assert(fc.asyncProperty(claimSets, async ({ typ, ...claims }) => {
      const allRight = typ!.ok && Object.values(claims).every(c => c.ok)
      const status = await answer(typ!.value, Object.fromEntries(Object.entries(claims).map(([name, c]) => [name, c.value])))
      if (status !== (allRight ? 200 : 401)) throw new Error(`${JSON.stringify({ typ, ...claims })} answered ${status}`)
    }), { numRuns: 120 })
    t.pass('every generated claim set got the expected answer')
  })
})
