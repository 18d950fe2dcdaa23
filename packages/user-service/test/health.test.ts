import t from 'tap'
import { buildUserService } from './helper.ts'

t.test('health and readiness', async t => {
  const { app, broker } = await buildUserService(t)
  await broker.onConnect(5_000)

  t.test('/healthz answers 200 without a token', async t => {
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok' })
  })

  t.test('/readyz is 200 while the database and the broker answer', async t => {
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ready', checks: { database: 'up', broker: 'up' } })
  })

  t.test('/readyz is 503 naming the broker once the broker connection is gone', async t => {
    await broker.close()
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(res.statusCode, 503)
    t.match(res.json(), { status: 'not ready', checks: { database: 'up', broker: /^down: / } })
  })
})
