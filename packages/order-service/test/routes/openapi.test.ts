import t from 'tap'
import { buildOrderService } from '../helper.ts'

interface Operation { security?: unknown[], parameters?: Array<{ in: string, name: string }>, requestBody?: unknown, responses: Record<string, unknown> }

t.test('the OpenAPI document states every route, who may call it and what it answers', async t => {
  const { app } = await buildOrderService(t)
  const { paths } = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> }
  const operations = Object.entries(paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })))
  t.same(operations.map(o => o.route).sort(), [
    'GET /healthz', 'GET /orders', 'GET /orders/ws', 'GET /orders/{id}', 'GET /readyz',
    'PATCH /orders/{id}', 'POST /orders', 'POST /orders/{id}/cancel'
  ])
  for (const { route, operation } of operations) {
    if (route === 'GET /healthz' || route === 'GET /readyz') continue
    const codes = Object.keys(operation.responses)
    t.ok(codes.includes('401') && codes.includes('403'), `${route} documents 401 and 403`)
    if (route === 'GET /orders/ws') {
      t.ok(operation.parameters?.some(p => p.in === 'query' && p.name === 'access_token'), `${route} takes the token in the query`)
      continue
    }
    t.same(operation.security, [{ bearerAuth: [] }], `${route} needs a bearer token`)
    if (operation.requestBody !== undefined) t.ok(['400', '413', '415'].every(code => codes.includes(code)), `${route} documents the body errors`)
    if (route.includes('{id}')) t.ok(codes.includes('404') && operation.parameters?.some(p => p.in === 'path' && p.name === 'id'), `${route} documents its id and 404`)
  }
})
