import { createHash, timingSafeEqual } from 'node:crypto'
import type { ServiceClient } from './config.ts'

export type ClientCredentialsOutcome =
  | { granted: true, clientId: string, scopes: string[] }
  | { granted: false, reason: 'invalid_client' | 'invalid_scope' }

/**
 * The OAuth2 client-credentials rules for services: which client may have which scopes.
 * Secrets are compared in constant time; hashing both sides first gives equal lengths, which
 * timingSafeEqual needs, without revealing the secret's length either.
 */
export class ServiceClients {
  readonly #clients: ReadonlyMap<string, ServiceClient>

  constructor (clients: readonly ServiceClient[]) {
    this.#clients = new Map(clients.map(client => [client.client_id, client]))
  }

  /** `requestedScope`: space-separated (RFC 6749 §3.3); omitted or blank means every scope of the client. */
  grant (clientId: string, clientSecret: string, requestedScope?: string): ClientCredentialsOutcome {
    const client = this.#clients.get(clientId)
    // An unknown client costs the same comparison as a known one.
    const secretMatches = secretsEqual(client?.client_secret ?? '', clientSecret)
    if (client === undefined || !secretMatches) return { granted: false, reason: 'invalid_client' }

    const granted: readonly string[] = client.scopes
    const named = (requestedScope ?? '').split(' ').filter(scope => scope !== '')
    const requested = named.length > 0 ? named : granted
    if (requested.some(scope => !granted.includes(scope))) {
      return { granted: false, reason: 'invalid_scope' }
    }
    return { granted: true, clientId: client.client_id, scopes: [...new Set(requested)] }
  }
}

function secretsEqual (expected: string, actual: string): boolean {
  const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()
  return timingSafeEqual(sha256(expected), sha256(actual))
}
