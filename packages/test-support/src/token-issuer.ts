import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, SCOPES } from '@orders/contracts'

export interface TokenOverrides {
  header?: Record<string, unknown>
  claims?: Record<string, unknown>
  /** Sign with another key than the one the JWKS publishes. */
  key?: KeyObject
}

/**
 * A stand-in for the user-service's token side, for testing verifiers on their own: serves a
 * JWKS over real HTTP and signs ES256 tokens (including deliberately broken ones).
 */
export async function startTestTokenIssuer () {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = randomUUID()
  let jwksRequests = 0
  const server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') { res.writeHead(404).end(); return }
    jwksRequests++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  function signToken (claims: Record<string, unknown>, overrides: TokenOverrides = {}): string {
    const now = Math.floor(Date.now() / 1000)
    // RFC 9068's type for access tokens, as the user-service issues them.
    const header = { alg: 'ES256', typ: 'at+jwt', kid, ...overrides.header }
    const payload = { iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, iat: now, exp: now + 900, jti: randomUUID(), ...claims, ...overrides.claims }
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url')
    const input = `${encode(header)}.${encode(payload)}`
    const signature = sign('sha256', Buffer.from(input), { key: overrides.key ?? privateKey, dsaEncoding: 'ieee-p1363' })
    return `${input}.${signature.toString('base64url')}`
  }

  return {
    url,
    kid,
    get jwksRequests () { return jwksRequests },
    userToken: (userId: string = randomUUID(), overrides?: TokenOverrides) => signToken({ sub: userId, scope: SCOPES.user }, overrides),
    serviceToken: (overrides?: TokenOverrides) => signToken({ sub: 'order-processor', client_id: 'order-processor', scope: SCOPES.orderStatusWrite }, overrides),
    signToken,
    otherKey: () => createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' })),
    close: async () => { await new Promise(resolve => server.close(resolve)) }
  }
}
export type TestTokenIssuer = Awaited<ReturnType<typeof startTestTokenIssuer>>
