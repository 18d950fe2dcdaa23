import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import cookie from '@fastify/cookie'
import { AccessTokenDenylist, databaseAndBrokerChecks, registerRateLimits, registerServiceBasics, type Redis } from '@orders/platform'
import type { RequestLimits, UserServiceConfig } from './config.ts'
import type { UsersDatabase } from './database.ts'
import { AccountRepository } from './account-repository.ts'
import { PasswordHasher } from './passwords.ts'
import { ServiceClients } from './service-clients.ts'
import { SigningKeys } from './signing-keys.ts'
import { startKeyMaintenance } from './key-maintenance.ts'
import { SessionRepository } from './session-repository.ts'
import { Sessions } from './sessions.ts'
import { startSessionMaintenance } from './session-maintenance.ts'
import authentication from './plugins/authentication.ts'
import usersRoutes from './routes/users.ts'
import loginRoutes from './routes/login.ts'
import oauthTokenRoutes from './routes/oauth-token.ts'
import logoutRoutes from './routes/logout.ts'
import jwksRoutes from './routes/jwks.ts'

export interface UserServiceAppOptions {
  db: Kysely<UsersDatabase>
  /** The AMQP connection the outbox relay publishes through; /readyz reports it. */
  broker: { readonly ready: boolean }
  /** Called after each commit that wrote outbox rows (wakes the in-process relay). */
  onOutboxCommitted: () => void
  /** Hashes passwords; one from config otherwise (tests pass one they can watch). */
  passwords?: PasswordHasher
  /** Holds the rate-limit counters and the revoked access tokens every replica shares. */
  redis: Redis
  config: Pick<UserServiceConfig, 'SERVICE_CLIENTS' | 'HASHING_CONCURRENCY' | 'HASHING_MAX_WAITING' | 'signingKeyEncryptionKey' |
  'SIGNING_KEY_ROTATION_INTERVAL_SECONDS' | 'SIGNING_KEY_PUBLISH_DELAY_SECONDS' | 'SESSION_IDLE_LIFETIME_SECONDS' | 'SESSION_ABSOLUTE_LIFETIME_SECONDS' | 'NODE_ENV'> & RequestLimits
  /** How often each replica rereads the signing keys (default 30 s; tests shorten it). */
  keyMaintenanceEveryMs?: number
  /** The sessions' clock (tests move it past a session's lifetime). */
  now?: () => Date
}

/**
 * The user-service as a plugin: accounts, sign-in and the platform's access tokens. The server
 * process and the tests both register it on a `createServiceInstance()`.
 */
async function userServiceApp (app: FastifyInstance, options: UserServiceAppOptions): Promise<void> {
  await registerServiceBasics(app, {
    title: 'user-service',
    description: 'Accounts and sign-in; issues the ES256 access tokens every service verifies (JWKS at /.well-known/jwks.json).',
    readiness: databaseAndBrokerChecks(options.db, options.broker)
  })

  const encryptionKey = options.config.signingKeyEncryptionKey
  if (encryptionKey === undefined) app.log.warn('no SIGNING_KEY_ENCRYPTION_KEY: the private signing keys are stored unencrypted (development only)')
  const signingKeys = await SigningKeys.open(options.db, { encryptionKey })
  const stopKeyMaintenance = startKeyMaintenance({
    db: options.db,
    signingKeys,
    encryptionKey,
    rotationIntervalMs: options.config.SIGNING_KEY_ROTATION_INTERVAL_SECONDS * 1000,
    publishDelayMs: options.config.SIGNING_KEY_PUBLISH_DELAY_SECONDS * 1000,
    everyMs: options.keyMaintenanceEveryMs,
    log: app.log.child({ component: 'signing-keys' })
  })
  app.addHook('onClose', stopKeyMaintenance)
  const passwords = options.passwords ?? await PasswordHasher.create({ concurrency: options.config.HASHING_CONCURRENCY, maxWaiting: options.config.HASHING_MAX_WAITING }, app.log.child({ component: 'password-hashing' }))
  // A hasher handed in (tests) belongs to whoever made it.
  if (options.passwords === undefined) app.addHook('onClose', async () => { await passwords.close() })
  const accounts = new AccountRepository({ db: options.db, onOutboxCommitted: options.onOutboxCommitted })
  const serviceClients = new ServiceClients(options.config.SERVICE_CLIENTS)

  await registerRateLimits(app, options.redis)
  const limits = options.config

  const denylist = await AccessTokenDenylist.open({ redis: options.redis, log: app.log.child({ component: 'denylist' }) })
  app.addHook('onClose', async () => { await denylist.close() })
  await app.register(authentication, { signingKeys, denylist })

  const lifetimes = { idleMs: options.config.SESSION_IDLE_LIFETIME_SECONDS * 1000, absoluteMs: options.config.SESSION_ABSOLUTE_LIFETIME_SECONDS * 1000 }
  const sessionRepository = new SessionRepository(options.db)
  const sessions = new Sessions({ repository: sessionRepository, denylist, lifetimes, issueAccessToken: app.issueAccessToken, log: app.log.child({ component: 'sessions' }), now: options.now })
  const stopSessionMaintenance = startSessionMaintenance({ repository: sessionRepository, denylist, lifetimes, log: app.log.child({ component: 'sessions' }), now: options.now })
  app.addHook('onClose', stopSessionMaintenance)
  // TLS may end in front of the gateway in production, so the cookie is Secure there whatever the gateway saw.
  const refreshCookie = { alwaysSecure: options.config.NODE_ENV === 'production' }
  await app.register(cookie)

  await app.register(usersRoutes, { accounts, passwords, limits })
  await app.register(loginRoutes, { accounts, passwords, sessions, cookie: refreshCookie, limits })
  await app.register(oauthTokenRoutes, { serviceClients, sessions, cookie: refreshCookie, limits })
  await app.register(logoutRoutes, { sessions, cookie: refreshCookie, limits })
  await app.register(jwksRoutes, { signingKeys })
}

// Not encapsulated: the error handler and health routes belong to the whole instance.
export default fp(userServiceApp, { name: 'user-service', fastify: '5.x' })
