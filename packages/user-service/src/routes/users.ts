import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Credentials, User } from '@orders/contracts'
import type { AccountRepository } from '../account-repository.ts'
import type { PasswordHasher } from '../passwords.ts'
import { requireUserToken } from '../plugins/authentication.ts'
import { BODY_ERRORS, errorResponses } from './error-responses.ts'

export interface UsersRoutesOptions {
  accounts: AccountRepository
  passwords: PasswordHasher
}

const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, { accounts, passwords }) => {
  app.post('/users', {
    schema: {
      tags: ['users'],
      summary: 'Register an account (public)',
      description: 'Creates an account and announces it with a `user_registered` event. ' +
        'Emails are unique regardless of letter case (409). The password is stored only as an argon2id hash.',
      body: Credentials,
      response: { 201: User, ...errorResponses(...BODY_ERRORS, 409) }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    const passwordHash = await passwords.hash(password)
    const user = await accounts.createWithOutbox({ email, passwordHash, requestId: request.id })
    if (user === undefined) return reply.conflict('An account with this email already exists')
    return reply.code(201).send(user)
  })

  app.get('/users/me', {
    schema: {
      tags: ['users'],
      summary: 'The signed-in user\'s own account (user token)',
      description: 'Needs a user\'s access token (scope `orders`, from POST /login); a service token is 403.',
      security: [{ bearerAuth: [] }],
      response: { 200: User, ...errorResponses(401, 403) }
    }
  }, async (request, reply) => {
    const { accountId } = await requireUserToken(request, reply)
    const user = await accounts.findById(accountId)
    // Accounts are never deleted today; if one is, its remaining tokens stop working here.
    if (user === undefined) return reply.unauthorized('The account of this access token no longer exists')
    return user
  })
}

export default usersRoutes
