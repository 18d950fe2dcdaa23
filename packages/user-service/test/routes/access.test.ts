import t from 'tap'
import { buildUserService, login, register } from '../helper.ts'

// Every route of the user-service and who may call it. A new route fails at registration until
// it says (platform's route guards); this keeps the list, the OpenAPI document and the answers in step.
const PUBLIC = ['POST /users', 'POST /login', 'POST /oauth/token', 'GET /.well-known/jwks.json', 'GET /healthz', 'GET /readyz']
const USER_TOKEN = ['GET /users/me']
// Anyone may call it; it ends only the session of the bearer token it carries (routes/logout.test.ts).
const OPTIONAL_BEARER = ['POST /logout']

t.test('who may call each route', async t => {
  const { app } = await buildUserService(t, {
    serviceClients: [{ client_id: 'order-processor', client_secret: 'processor-secret', scopes: ['orders:status'] }]
  })
  await register(app, 'ada@example.com')
  const userToken = await login(app, 'ada@example.com')
  const serviceToken = (await app.inject({
    method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: 'order-processor', client_secret: 'processor-secret' }
  })).json().access_token as string
  const call = (route: string, token?: string) => {
    const [method, url] = route.split(' ') as ['GET' | 'POST', string]
    return app.inject({ method, url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  }

  t.test('the OpenAPI document lists exactly these routes, a bearer token only on the guarded ones', async t => {
    const { paths } = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown[], responses: Record<string, unknown> }>> }
    const documented = Object.entries(paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })))
    t.same(documented.map(d => d.route).sort(), [...PUBLIC, ...USER_TOKEN, ...OPTIONAL_BEARER].sort())
    for (const { route, operation } of documented) {
      if (USER_TOKEN.includes(route)) {
        t.same(operation.security, [{ bearerAuth: [] }], `${route} needs a bearer token`)
        t.ok(operation.responses['401'] && operation.responses['403'], `${route} documents 401 and 403`)
      } else if (OPTIONAL_BEARER.includes(route)) {
        t.same(operation.security, [{ bearerAuth: [] }, {}], `${route} takes a bearer token, or none`)
      } else {
        t.equal(operation.security, undefined, `${route} is public`)
      }
    }
  })

  t.test('public routes answer without a token', async t => {
    for (const route of [...PUBLIC, ...OPTIONAL_BEARER]) {
      const res = await call(route)
      t.notOk([401, 403].includes(res.statusCode), `${route} answered ${res.statusCode}`)
    }
  })

  t.test('user-token routes: 401 without a token, 403 with a service token, 200 with a user token', async t => {
    for (const route of USER_TOKEN) {
      t.equal((await call(route)).statusCode, 401, `${route} without a token`)
      t.equal((await call(route, serviceToken)).statusCode, 403, `${route} with a service token`)
      t.equal((await call(route, userToken)).statusCode, 200, `${route} with a user token`)
    }
  })
})
