import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { JwksKeyCache } from '../src/jwks-cache.ts'

const TEN_MINUTES = 10 * 60_000

/** A public EC P-256 key as the issuer publishes it. */
const publishedKey = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' })

t.test('a known key stays in use until a fetch that succeeded no longer lists it', async t => {
  let published = [publishedKey('old')]
  let answering = true
  const issuer = createServer((_request, response) => {
    if (!answering) { response.writeHead(503).end(); return }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }))
  })
  await new Promise<void>(resolve => issuer.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { issuer.close() })
  let now = Date.now()
  const cache = new JwksKeyCache({ jwksUrl: `http://127.0.0.1:${(issuer.address() as AddressInfo).port}/`, now: () => now })
  t.ok(await cache.publicKey('old'), 'fetched at first use')

  // The issuer retires the key but is unreachable: the key stays, however old the set.
  published = [publishedKey('new')]
  answering = false
  now += TEN_MINUTES + 1
  t.ok(await cache.publicKey('old'), 'the refresh fails; the key stays')
  t.notOk(await cache.publicKey('new'), 'the new key is not known yet (this waited for the failed fetch)')
  t.ok(await cache.publicKey('old'), 'the old key is still in use after the failed fetch')

  // Reachable again: the next refresh replaces the set, and the retired key goes with it.
  answering = true
  now += 2_001
  t.ok(await cache.publicKey('new'), 'an unknown kid fetches the set, which now holds only the new key')
  t.notOk(await cache.publicKey('old'), 'the key the issuer no longer publishes is refused')
})

t.test('forged kids spread over time, past the cache lifetime: the real kid is always answered, and at most one fetch runs per interval', async t => {
  let fetches = 0
  const published = [publishedKey('real')]
  const issuer = createServer((_request, response) => {
    fetches++
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }))
  })
  await new Promise<void>(resolve => issuer.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { issuer.close() })
  let now = Date.now()
  const cache = new JwksKeyCache({ jwksUrl: `http://127.0.0.1:${(issuer.address() as AddressInfo).port}/`, now: () => now, minFetchIntervalMs: 2_000 })
  t.ok(await cache.publicKey('real'))
  now += TEN_MINUTES + 1

  // As reported: about 5 forged tokens a second for 12 s, one after another, among valid ones.
  const refused: number[] = []
  let forgedAccepted = 0
  const fetchesBefore = fetches
  for (let i = 0; i < 60; i++) {
    if (await cache.publicKey(`forged-${i}`) !== undefined) forgedAccepted++
    if (await cache.publicKey('real') === undefined) refused.push(i)
    now += 200
  }
  t.equal(forgedAccepted, 0, 'no forged kid has a key')
  t.same(refused, [], 'the real kid was never refused')
  const fetched = fetches - fetchesBefore
  t.ok(fetched <= 7, `${fetched} fetches for 60 forged kids over 12 s (one per 2 s at most)`)
})
