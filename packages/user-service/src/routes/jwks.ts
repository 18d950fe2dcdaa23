import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ACCESS_TOKEN_ALGORITHM, errorResponses } from '@orders/contracts'
import type { SigningKeys } from '../signing-keys.ts'

export interface JwksRoutesOptions {
  signingKeys: SigningKeys
}

// Verifiers cache the set this long; an unknown kid makes them fetch again before it runs out.
const JWKS_MAX_AGE_SECONDS = 300

// Only these members are serialized, whatever else a key object holds: no private `d` can leak.
const PublishedJwk = Type.Object({
  kty: Type.Literal('EC'),
  crv: Type.Literal('P-256'),
  x: Type.String(),
  y: Type.String(),
  kid: Type.String(),
  alg: Type.Literal(ACCESS_TOKEN_ALGORITHM),
  use: Type.Literal('sig')
})

const JsonWebKeySet = Type.Object({ keys: Type.Array(PublishedJwk) })

const jwksRoutes: FastifyPluginAsyncTypebox<JwksRoutesOptions> = async (app, { signingKeys }) => {
  app.get('/.well-known/jwks.json', {
    config: { public: true },
    schema: {
      tags: ['oauth'],
      summary: 'Public keys that verify access tokens (public)',
      description: 'RFC 7517 JSON Web Key Set: every key tokens may be signed with, public parts only.',
      response: { 200: JsonWebKeySet, ...errorResponses(503) }
    }
  }, async (_request, reply) => {
    void reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return { keys: await signingKeys.publishedKeys() }
  })
}

export default jwksRoutes
