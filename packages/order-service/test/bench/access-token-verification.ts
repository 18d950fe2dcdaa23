/**
 * What verifying an access token costs per request, and what the verification cache and the
 * denylist change about it; figures in doc/security.md ("What verification costs").
 *
 *     node --import tsx packages/order-service/test/bench/access-token-verification.ts
 *
 * A benchmark, not a test: it asserts nothing and prints CPU time, as ratios within one run.
 * 1. The verifier alone (fast-jwt with the platform's strict options): ES256 every time, or
 *    a cache hit; each followed by the claim rules, with and without a denylist lookup in a
 *    list of 10,000 revoked tokens. The variants alternate in rounds; the median round counts.
 * 2. A whole authenticated request in-process (the order-service's authentication plugin,
 *    `inject`, a route that answers at once): tokens it has seen (cache hits) against tokens
 *    it sees for the first time (each one an ES256 verification).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import pino from 'pino'
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, SCOPES } from '@orders/contracts'
import { AccessTokenDenylist, accessTokenClaimProblem, createServiceInstance, registerServiceBasics, strictAccessTokenVerifyOptions } from '@orders/platform'
import { startTestTokenIssuer } from '@orders/test-support'
import authentication from '../../src/plugins/authentication.ts'

const ROUNDS = 7
const PER_ROUND = 4_000
const DISTINCT_TOKENS = 1_000

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const key = publicKey.export({ type: 'spki', format: 'pem' }).toString()
const sign = createSigner({ algorithm: 'ES256', key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), kid: 'bench', header: { alg: 'ES256', typ: 'at+jwt' }, iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, expiresIn: 900_000 })
const tokens = Array.from({ length: DISTINCT_TOKENS }, () => sign({ sub: randomUUID(), scope: SCOPES.user, jti: randomUUID(), sid: randomUUID() }))

const denylist = await AccessTokenDenylist.open({ log: pino({ level: 'silent' }) })
const inFifteenMinutes = Math.floor(Date.now() / 1000) + 900
await denylist.revoke(Array.from({ length: 10_000 }, () => ({ jti: randomUUID(), expiresAt: inFifteenMinutes })))

const { cache: _cache, ...withoutCache } = strictAccessTokenVerifyOptions()
const uncached = createVerifier({ ...withoutCache, key })
const cached = createVerifier({ ...strictAccessTokenVerifyOptions(), key })
for (const token of tokens) cached(token) // every token seen once: from here on, hits

function check (verify: (token: string) => Record<string, unknown>, withDenylist: boolean) {
  return (token: string) => {
    const claims = verify(token)
    if (accessTokenClaimProblem(claims) !== undefined) throw new Error('refused')
    if (withDenylist && denylist.isRevoked(claims.jti as string)) throw new Error('revoked')
  }
}

const variants = {
  'ES256 every time': check(uncached, false),
  'ES256 every time + denylist': check(uncached, true),
  'cache hit': check(cached, false),
  'cache hit + denylist': check(cached, true)
}

/**
 * CPU microseconds (user + system) of this process per call of `run`: CPU time, not wall
 * time, so other processes on a shared machine change the figures less.
 */
function cpuMicroseconds (started: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(started)
  return used.user + used.system
}

function measure (run: (token: string) => void, count: number): number {
  const started = process.cpuUsage()
  for (let i = 0; i < count; i++) run(tokens[i % DISTINCT_TOKENS]!)
  return cpuMicroseconds(started) / count
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const results = Object.fromEntries(Object.keys(variants).map(name => [name, [] as number[]]))
for (const run of Object.values(variants)) measure(run, PER_ROUND) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) results[name]!.push(measure(run, name.startsWith('ES256') ? PER_ROUND / 4 : PER_ROUND))
}
const micro = Object.fromEntries(Object.entries(results).map(([name, values]) => [name, median(values)]))
const baseline = micro['ES256 every time']!
console.log('\n1. The verifier alone: CPU microseconds per token (median of %d rounds)', ROUNDS)
for (const [name, us] of Object.entries(micro)) console.log(`  ${name.padEnd(30)} ${us.toFixed(2).padStart(8)} µs   ${(us / baseline).toFixed(3)} × ES256 every time`)
console.log(`  the denylist lookup adds ${(micro['cache hit + denylist']! - micro['cache hit']!).toFixed(3)} µs to a cache hit (${(micro['cache hit + denylist']! / micro['cache hit']!).toFixed(3)} ×)`)
const jtis = tokens.map(token => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string)
const lookups = 1_000_000
let revokedCount = 0
const lookupStarted = process.cpuUsage()
for (let n = 0; n < lookups; n++) if (denylist.isRevoked(jtis[n % DISTINCT_TOKENS]!)) revokedCount++
const lookupNs = cpuMicroseconds(lookupStarted) * 1000 / lookups
console.log(`  the lookup alone, in a list of ${denylist.size} revoked tokens: ${lookupNs.toFixed(0)} ns (${revokedCount} revoked among them)`)

// 2. Whole requests through the plugin.
const issuer = await startTestTokenIssuer()
const app = createServiceInstance({ service: 'verification-bench', logLevel: 'silent' })
await registerServiceBasics(app, { title: 'bench', description: 'bench', readiness: {} })
await app.register(authentication, { userServiceUrl: issuer.url, denylist })
app.get('/me', { onRequest: app.requireScope(SCOPES.user) }, async () => ({ ok: true }))
await app.ready()

const REQUESTS = 2_000
const seen = Array.from({ length: 200 }, () => issuer.userToken())
const fresh = Array.from({ length: REQUESTS * ROUNDS * 2 }, () => issuer.userToken())
let freshIndex = 0
async function requests (next: () => string, count: number): Promise<number> {
  const started = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    const res = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${next()}` } })
    if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}`)
  }
  return cpuMicroseconds(started) / count
}
let i = 0
const seenToken = () => seen[i++ % seen.length]!
const freshToken = () => fresh[freshIndex++]!
await requests(seenToken, REQUESTS) // warm-up, and every `seen` token verified once
const hits: number[] = []
const misses: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  hits.push(await requests(seenToken, REQUESTS))
  misses.push(await requests(freshToken, REQUESTS))
}
const hit = median(hits)
const miss = median(misses)
console.log('\n2. A whole authenticated request in-process (inject): CPU microseconds per request (median of %d rounds)', ROUNDS)
console.log(`  a token seen before (cache hit)     ${hit.toFixed(1).padStart(8)} µs`)
console.log(`  a token never seen (ES256)          ${miss.toFixed(1).padStart(8)} µs`)
console.log(`  the cache saves ${(miss - hit).toFixed(1)} µs per request: ${(hit / miss).toFixed(3)} × the cost`)
await app.close()
await issuer.close()
await denylist.close()
