import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { commonConfigProperties, loadConfig, redisConfigProperties } from '@orders/platform'
import { SCOPES } from '@orders/contracts'

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
  /** argon2 hashes computed at once, and hashes that may wait (per priority) before 503. */
  HASHING_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
  HASHING_MAX_WAITING: Type.Integer({ minimum: 0, default: 4 })
})

/** What the routes need of the configuration: the limits. */
export type RequestLimits = Pick<UserServiceConfig, 'LOGIN_LIMIT_PER_ACCOUNT' | 'LOGIN_LIMIT_PER_CLIENT' | 'REGISTRATION_LIMIT_PER_CLIENT' | 'TOKEN_LIMIT_PER_CLIENT'>

export type UserServiceConfig = Omit<Static<typeof UserServiceEnvironment>, 'SERVICE_CLIENTS'> & {
  SERVICE_CLIENTS: ServiceClient[]
}

/**
 * The user-service's configuration from the environment. SERVICE_CLIENTS arrives as a JSON
 * string, so it is parsed and checked here too: a malformed client list stops the process at
 * start instead of turning every token request into a 401.
 */
export function loadUserServiceConfig (env: NodeJS.ProcessEnv = process.env): UserServiceConfig {
  const config = loadConfig(UserServiceEnvironment, env)
  return { ...config, SERVICE_CLIENTS: parseServiceClients(config.SERVICE_CLIENTS) }
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
