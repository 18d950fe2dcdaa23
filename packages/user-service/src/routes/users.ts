import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { BODY_ERRORS, Credentials, errorResponses, User } from '@orders/contracts'
import type { AccountRepository } from '../account-repository.ts'
import type { PasswordHasher } from '../passwords.ts'
import type { RequestLimits } from '../config.ts'
import { isCommonlyBreached } from '../breached-passwords.ts'
import { EmailTakenError } from '../account-repository.ts'

export interface UsersRoutesOptions {
  accounts: AccountRepository
  passwords: PasswordHasher
  limits: RequestLimits
}

const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, { accounts, passwords, limits }) => {
  app.post('/users', {
    config: { public: true },
    preHandler: app.limitRequests({ name: 'register-per-client', perMinute: limits.REGISTRATION_LIMIT_PER_CLIENT, key: request => request.ip }),
    schema: {
      tags: ['users'],
      summary: 'Register an account (public)',
      description: 'Creates an account and announces it with a `user_registered` event. ' +
        'Emails are unique regardless of letter case (409). The password is stored only as an argon2id hash; ' +
        'one of the most common breached passwords is refused (400). ' +
        `At most ${limits.REGISTRATION_LIMIT_PER_CLIENT} registrations per minute from one address (429).`,
      body: Credentials,
      response: { 201: User, ...errorResponses(...BODY_ERRORS, 409, 429, 503) }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    if (isCommonlyBreached(password)) {
      throw app.httpErrors.badRequest('This password is one of the most common in published data breaches; choose another')
    }
    // A taken email is answered before hashing: the hash would be thrown away, and hashing
    // is what a flood of registrations is after. The unique index still decides a race.
    if (await accounts.findByEmail(email) !== undefined) throw new EmailTakenError()
    const passwordHash = await passwords.hash(password)
    const user = await accounts.createWithOutbox({ email, passwordHash, requestId: request.id })
    return await reply.code(201).send(user)
  })

  app.get('/users/me', {
    onRequest: app.requireUserToken,
    schema: {
      tags: ['users'],
      summary: 'The signed-in user\'s own account (user token)',
      description: 'Needs a user\'s access token (scope `orders`, from POST /login); a service token is 403.',
      security: [{ bearerAuth: [] }],
      response: { 200: User, ...errorResponses(401, 403, 503) }
    }
  }, async (request, reply) => {
    const user = await accounts.findById(request.user.sub)
    // Accounts are never deleted today; if one is, its remaining tokens stop working here.
    if (user === undefined) return reply.unauthorized('The account of this access token no longer exists')
    return user
  })
}

export default usersRoutes
