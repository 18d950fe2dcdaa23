import t from 'tap'
import { Writable } from 'node:stream'
import { createServiceInstance, registerServiceBasics } from '../src/index.ts'

t.test('no answer and no log line repeats a token sent in the query string, however it is spelled', async t => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const app = createServiceInstance({ service: 'leak-test', logLevel: 'trace', logStream })
  await registerServiceBasics(app, { title: 'leak-test', description: 'leaks', readiness: {} })
  app.get('/thing', { config: { public: true } }, async () => ({ ok: true }))
  await app.ready()
  t.teardown(async () => { await app.close() })

  const secret = 'eyJhbGciOiJFUzI1NiJ9.SECRET-TOKEN-VALUE'
  const urls = [
    `/missing?access_token=${secret}`,
    `/missing?%61ccess_token=${secret}`,
    `/missing?access%5Ftoken=${secret}&limit=3`,
    `/missing?${secret}`,
    `/thing?%61ccess_token=${secret}`,
    `/thing?x=1&access_token=${encodeURIComponent(secret)}`
  ]
  for (const url of urls) {
    const res = await app.inject({ method: 'GET', url })
    t.notOk(res.body.includes('SECRET-TOKEN-VALUE'), `the answer to ${url.slice(0, 30)}… does not repeat it`)
    if (url.startsWith('/missing')) t.match(res.json(), { statusCode: 404, message: 'There is no such route; the API is described at /docs' })
  }
  t.ok(lines.length > 0, 'requests were logged')
  t.same(lines.filter(line => line.includes('SECRET-TOKEN-VALUE')), [], 'no log line holds the token')
  t.ok(lines.some(line => line.includes('/thing?x=[Redacted]&access_token=[Redacted]')), 'the log still shows the path and the parameter names')
})
