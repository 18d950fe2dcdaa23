import t from 'tap'
import { createServiceInstance, DomainError, registerServiceBasics, type DomainErrorKind } from '@orders/platform'

class Refused extends DomainError {
  constructor (readonly kind: DomainErrorKind) { super(`refused as ${kind}`) }
}

async function appThrowing (error: Error) {
  const app = createServiceInstance({ service: 'errors-test', logLevel: 'silent' })
  await registerServiceBasics(app, { title: 'errors-test', description: 'test', readiness: {} })
  app.get('/boom', { config: { public: true } }, async () => { throw error })
  await app.ready()
  return app
}

t.test('a domain error is answered with the status of its kind and its own message', async t => {
  for (const [kind, statusCode, error] of [['invalid_request', 400, 'Bad Request'], ['not_found', 404, 'Not Found'], ['conflict', 409, 'Conflict']] as const) {
    const app = await appThrowing(new Refused(kind))
    t.teardown(() => app.close())
    const res = await app.inject({ url: '/boom' })
    t.equal(res.statusCode, statusCode, kind)
    t.same(res.json(), { statusCode, error, message: `refused as ${kind}` })
  }
})

t.test('any other error is a 500 that tells the client nothing', async t => {
  const app = await appThrowing(new Error('secret detail of a bug'))
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/boom' })
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
})

t.test('a route that does not say who may call it is refused when it is registered', async t => {
  const app = createServiceInstance({ service: 'guards-test', logLevel: 'silent' })
  await registerServiceBasics(app, { title: 'guards-test', description: 'test', readiness: {} })
  t.throws(() => app.get('/forgotten', async () => 'open to all'), /GET \/forgotten does not say who may call it/)
  t.doesNotThrow(() => app.get('/public', { config: { public: true } }, async () => 'open to all'))
  t.doesNotThrow(() => app.get('/guarded', { onRequest: async () => {} }, async () => 'checked'))
  await app.ready()
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the health routes are public')
  await app.close()
})
