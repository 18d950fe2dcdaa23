import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type JsonWebKey } from 'node:crypto'
import type { Test } from 'tap'
import type { Kysely } from 'kysely'
import { createBrokerConnection, createServiceInstance } from '@orders/platform'
import { createTestDatabase, createTestRedis, resolveServiceUrls, type TestDatabase, type TestRedis } from '@orders/test-support'
import userServiceApp, { type UserServiceAppOptions } from '../src/app.ts'
import { loadUserServiceConfig, type ServiceClient, type UserServiceConfig } from '../src/config.ts'
import { decryptPrivateKey } from '../src/signing-key-encryption.ts'
import { REFRESH_COOKIE } from '@orders/contracts'

export interface UserServiceTestOptions {
  /** Run on this database (not dropped here); a fresh one of its own otherwise. */
  database?: TestDatabase
  serviceClients?: ServiceClient[]
  onOutboxCommitted?: () => void
  /** Limits and hashing settings; the defaults of config.ts otherwise. */
  config?: Partial<Omit<UserServiceConfig, 'SERVICE_CLIENTS'>>
  passwords?: UserServiceAppOptions['passwords']
  /** Rate-limit counters under a prefix of their own (dropped at the end); a fresh one otherwise. */
  redis?: TestRedis
  keyMaintenanceEveryMs?: number
  /** The sessions' clock (tests move it past a lifetime). */
  now?: () => Date
}

/** The key-encryption key of the tests' user-services, as production has one (from env). */
export const TEST_ENCRYPTION_KEY = randomBytes(32)

/**
 * The user-service app on a database of its own, connected as the user-service's own role (`db`
 * is the admin's, for assertions), with a real (idle) broker connection for /readyz. Nothing is published: tests that follow events build the relay themselves
 * (see events.test.ts). Everything is closed and dropped when the test ends.
 */
export async function buildUserService (t: Test, options: UserServiceTestOptions = {}) {
  const database = options.database ?? await createTestDatabase()
  const app = createServiceInstance({ service: 'user-service-test', logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const broker = createBrokerConnection((await resolveServiceUrls()).amqpUrl, 'user-service-test', app.log)
  const redis = options.redis ?? await createTestRedis()
  let outboxCommits = 0
  const appOptions: UserServiceAppOptions = {
    db: database.as('user-service'),
    broker,
    redis: redis.client,
    passwords: options.passwords,
    onOutboxCommitted: options.onOutboxCommitted ?? (() => { outboxCommits++ }),
    config: { ...loadUserServiceConfig({}), signingKeyEncryptionKey: TEST_ENCRYPTION_KEY, ...GENEROUS_LIMITS, ...options.config, SERVICE_CLIENTS: options.serviceClients ?? [] },
    keyMaintenanceEveryMs: options.keyMaintenanceEveryMs,
    now: options.now
  }
  await app.register(userServiceApp, appOptions)
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await broker.close()
    if (options.redis === undefined) await redis.drop()
    if (options.database === undefined) await database.drop()
  })
  return { app, db: database.db, database, broker, redis, get outboxCommits () { return outboxCommits } }
}

/** Tests that are not about rate limits send many requests from one address. */
const GENEROUS_LIMITS = { LOGIN_LIMIT_PER_ACCOUNT: 10_000, LOGIN_LIMIT_PER_CLIENT: 10_000, REGISTRATION_LIMIT_PER_CLIENT: 10_000, TOKEN_LIMIT_PER_CLIENT: 10_000, SESSION_LIMIT_PER_CLIENT: 10_000 }

export type App = Awaited<ReturnType<typeof buildUserService>>['app']

export async function register (app: App, email: string, password = 'correct horse battery') {
  const res = await app.inject({ method: 'POST', url: '/users', payload: { email, password } })
  if (res.statusCode !== 201) throw new Error(`registration answered ${res.statusCode}: ${res.body}`)
  return res.json() as { id: string, email: string, created_at: string }
}

export async function login (app: App, email: string, password = 'correct horse battery'): Promise<string> {
  return (await signIn(app, email, password)).accessToken
}

/** Signs in: the access token, and the refresh token from the cookie the answer sets. */
export async function signIn (app: App, email: string, password = 'correct horse battery'): Promise<{ accessToken: string, refreshToken: string }> {
  const res = await app.inject({ method: 'POST', url: '/login', payload: { email, password } })
  if (res.statusCode !== 200) throw new Error(`login answered ${res.statusCode}: ${res.body}`)
  return { accessToken: res.json().access_token, refreshToken: refreshCookie(res)!.value }
}

/** The refresh cookie an answer sets (or clears), or undefined. */
export function refreshCookie (res: { cookies: Array<{ name: string, value: string }> }) {
  return res.cookies.find(cookie => cookie.name === REFRESH_COOKIE) as undefined | {
    name: string, value: string, path?: string, httpOnly?: boolean, secure?: boolean, sameSite?: string, expires?: Date, maxAge?: number
  }
}

export async function countAccounts (db: Kysely<any>): Promise<number> {
  const { n } = await db.withSchema('users').selectFrom('accounts').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
  return Number(n)
}

export interface DecodedToken {
  header: Record<string, unknown>
  claims: Record<string, unknown>
  signingInput: string
  signature: Buffer
}

export function decodeToken (token: string): DecodedToken {
  const [header = '', claims = '', signature = ''] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()),
    signingInput: `${header}.${claims}`,
    signature: Buffer.from(signature, 'base64url')
  }
}

/** Checks an ES256 signature with node:crypto alone, as any other verifier would. */
export function verifiesWith (token: string, jwk: JsonWebKey): boolean {
  const { signingInput, signature } = decodeToken(token)
  return verify('sha256', Buffer.from(signingInput), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature)
}

const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url')

/** Signs any header and claims with the service's own private key (read from its table). */
export async function signWithServiceKey (db: Kysely<any>, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const key = await db.withSchema('users').selectFrom('signing_keys').select(['kid', 'private_key']).orderBy('created_at', 'desc').executeTakeFirstOrThrow()
  const input = `${encode({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header })}.${encode(claims)}`
  const pem = decryptPrivateKey(key.private_key, key.kid, TEST_ENCRYPTION_KEY)
  const signature = sign('sha256', Buffer.from(input), { key: createPrivateKey(pem), dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

export function unsignedToken (header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  return `${encode(header)}.${encode(claims)}.${signature}`
}
