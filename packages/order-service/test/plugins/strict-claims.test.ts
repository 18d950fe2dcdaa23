import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createServiceInstance, registerServiceBasics } from '@orders/platform'
import { SCOPES } from '@orders/contracts'
import { oneWrongAtATime, startTestTokenIssuer, userTokenClaimChoices } from '@orders/test-support'
import authentication from '../../src/plugins/authentication.ts'

// Each rule of access-token-claims.ts on its own, through the order-service's verifier: a token
// with one claim wrong and all others right. The property test in authentication.test.ts mixes
// them at random, and rarely draws a token with exactly one claim wrong, so only this shows that
// dropping any single rule lets a bad token in.
t.test('a token with any one claim missing or wrong, the rest right, is 401', async t => {
  const issuer = await startTestTokenIssuer()
  const app = createServiceInstance({ service: 'claims-test', logLevel: 'silent' })
  await registerServiceBasics(app, { title: 'claims-test', description: 'the authentication plugin alone', readiness: {} })
  await app.register(authentication, { userServiceUrl: issuer.url })
  app.get('/me', { onRequest: app.requireScope(SCOPES.user) }, async request => ({ sub: request.user.sub }))
  await app.ready()
  t.teardown(async () => { await app.close(); await issuer.close() })

  for (const { name, typ, claims } of oneWrongAtATime(userTokenClaimChoices(randomUUID()))) {
    const token = issuer.signToken({}, { header: { typ }, claims })
    const res = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, name === 'every claim right' ? 200 : 401, name)
  }
})
