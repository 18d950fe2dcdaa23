import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { commonConfigProperties, loadConfig, redisConfigProperties, serviceConnectionProperties } from '@orders/platform'
import { SCOPES } from '@orders/contracts'
import { readEncryptionKey } from './signing-key-encryption.ts'

// `orders` is the scope of a signed-in person: its `sub` must be an account id. A service
// holding it would act as a user it is not, so clients may only be granted service scopes.
const SERVICE_SCOPES = Object.values(SCOPES).filter(scope => scope !== SCOPES.user)

export const ServiceClient = Type.Object({
  client_id: Type.String({ minLength: 1, maxLength: 128 }),
  client_secret: Type.String({ minLength: 1, maxLength: 256 }),
  scopes: Type.Array(Type.Union(SERVICE_SCOPES.map(scope => Type.Literal(scope))), { minItems: 1, uniqueItems: true })
}, { additionalProperties: false })
export type ServiceClient = Static<typeof ServiceClient>

const ServiceClients = Type.Array(ServiceClient)

const UserServiceEnvironment = Type.Object({
  ...commonConfigProperties,
  ...serviceConnectionProperties('user-service'),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** JSON: `[{"client_id": "...", "client_secret": "...", "scopes": ["orders:status"]}]`. */
  SERVICE_CLIENTS: Type.String({ default: '[]' }),
  ...redisConfigProperties,
  /**
   * Requests per minute (doc/security.md). Sign-ins per account from one client address: past
   * it each further try doubles the wait, so guessing slows down without locking the account.
   */
  LOGIN_LIMIT_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  /** Sign-ins per client address, whatever the accounts. */
  LOGIN_LIMIT_PER_CLIENT: Type.Integer({ minimum: 1, default: 10 }),
  /** Registrations per client address. */
  REGISTRATION_LIMIT_PER_CLIENT: Type.Integer({ minimum: 1, default: 5 }),
  /** Token requests per OAuth client id and client address (a service needs one per 14 minutes). */
  TOKEN_LIMIT_PER_CLIENT: Type.Integer({ minimum: 1, default: 10 }),
  /**
   * Refreshes and sign-outs per client address. A browser tab refreshes once per 14 minutes and
   * at every page load; a refresh token cannot be guessed, so this bounds load, not guessing.
   */
  SESSION_LIMIT_PER_CLIENT: Type.Integer({ minimum: 1, default: 60 }),
  /**
   * A session unused this long ends (each refresh moves this on): a refresh token left behind on
   * a machine is worthless after a week. 7 days.
   */
  SESSION_IDLE_LIFETIME_SECONDS: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  /** No session outlives this from its sign-in, however active: the password again every 30 days. */
  SESSION_ABSOLUTE_LIFETIME_SECONDS: Type.Integer({ minimum: 60, default: 30 * 24 * 3600 }),
  /**
   * Sign-ins to existing accounts verified at once, in the service's process (anonymous work
   * runs in the hashing worker, one at a time: passwords.ts); and hashes that may wait in each
   * of the two lanes before 503.
   */
  HASHING_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
  HASHING_MAX_WAITING: Type.Integer({ minimum: 0, default: 4 }),
  /** `production` requires the key-encryption key (below); anything else counts as development. */
  NODE_ENV: Type.Optional(Type.String()),
  /** Base64 of 32 bytes: encrypts the private signing keys at rest (signing-key-encryption.ts). */
  SIGNING_KEY_ENCRYPTION_KEY: Type.Optional(Type.String()),
  /** A file holding it instead (a mounted secret). */
  SIGNING_KEY_ENCRYPTION_KEY_FILE: Type.Optional(Type.String()),
  /** A new signing key this often (0: only by `pnpm keys rotate`). */
  SIGNING_KEY_ROTATION_INTERVAL_SECONDS: Type.Integer({ minimum: 0, default: 0 }),
  /**
   * A new key is published this long before it signs: longer than the order-service's JWKS
   * refresh (600 s, jwks-cache.ts) and the JWKS's max-age (300 s), so every verifier holds it.
   */
  SIGNING_KEY_PUBLISH_DELAY_SECONDS: Type.Integer({ minimum: 0, default: 900 })
})

/** What the routes need of the configuration: the limits. */
export type RequestLimits = Pick<UserServiceConfig, 'LOGIN_LIMIT_PER_ACCOUNT' | 'LOGIN_LIMIT_PER_CLIENT' | 'REGISTRATION_LIMIT_PER_CLIENT' | 'TOKEN_LIMIT_PER_CLIENT' | 'SESSION_LIMIT_PER_CLIENT'>

export type UserServiceConfig = Omit<Static<typeof UserServiceEnvironment>, 'SERVICE_CLIENTS' | 'SIGNING_KEY_ENCRYPTION_KEY' | 'SIGNING_KEY_ENCRYPTION_KEY_FILE'> & {
  SERVICE_CLIENTS: ServiceClient[]
  /** The key-encryption key, read from SIGNING_KEY_ENCRYPTION_KEY or _FILE. */
  signingKeyEncryptionKey: Buffer | undefined
}

/**
 * The user-service's configuration from the environment. SERVICE_CLIENTS arrives as a JSON
 * string, so it is parsed and checked here too: a malformed client list stops the process at
 * start instead of turning every token request into a 401.
 */
export function loadUserServiceConfig (env: NodeJS.ProcessEnv = process.env): UserServiceConfig {
  const { SIGNING_KEY_ENCRYPTION_KEY, SIGNING_KEY_ENCRYPTION_KEY_FILE, ...config } = loadConfig(UserServiceEnvironment, env)
  const signingKeyEncryptionKey = readEncryptionKey({ SIGNING_KEY_ENCRYPTION_KEY, SIGNING_KEY_ENCRYPTION_KEY_FILE })
  if (config.SESSION_IDLE_LIFETIME_SECONDS > config.SESSION_ABSOLUTE_LIFETIME_SECONDS) {
    throw new Error('Invalid configuration from the environment:\n  SESSION_IDLE_LIFETIME_SECONDS: must not be longer than SESSION_ABSOLUTE_LIFETIME_SECONDS')
  }
  // Without the KEK the private keys would sit in the database in plaintext: acceptable on a
  // developer's machine, never in production (the image sets NODE_ENV=production).
  if (signingKeyEncryptionKey === undefined && config.NODE_ENV === 'production') {
    throw new Error('Invalid configuration from the environment:\n  SIGNING_KEY_ENCRYPTION_KEY: required when NODE_ENV=production (base64 of 32 bytes, e.g. `openssl rand -base64 32`; or SIGNING_KEY_ENCRYPTION_KEY_FILE naming a file that holds it): it encrypts the token-signing keys in the database')
  }
  return { ...config, SERVICE_CLIENTS: parseServiceClients(config.SERVICE_CLIENTS), signingKeyEncryptionKey }
}

function parseServiceClients (json: string): ServiceClient[] {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    // Not the parser's message: newer engines quote the text around the error, i.e. secrets.
    throw new Error('Invalid configuration from the environment:\n  SERVICE_CLIENTS: not valid JSON')
  }
  // The messages name the path and the rule, never the value: it holds secrets.
  const problems = [...Value.Errors(ServiceClients, value)].map(e => `SERVICE_CLIENTS${e.path}: ${e.message}`)
  if (problems.length > 0) {
    throw new Error(`Invalid configuration from the environment:\n  ${problems.join('\n  ')}`)
  }
  const clients = value as ServiceClient[]
  const ids = clients.map(client => client.client_id)
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index)
  if (duplicate !== undefined) {
    throw new Error(`Invalid configuration from the environment:\n  SERVICE_CLIENTS: client_id "${duplicate}" appears twice`)
  }
  return clients
}
