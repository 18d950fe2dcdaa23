import type { AccessTokenResponse } from '@orders/contracts'

export interface ServiceTokenClientOptions {
  tokenUrl: string
  clientId: string
  clientSecret: string
  scope: string
}

// Renew a minute early so a token never expires between fetching and using it.
const RENEW_BEFORE_EXPIRY_MS = 60_000

/**
 * OAuth2 client-credentials for a service: fetches a token once, reuses it until shortly
 * before it expires, and fetches once more after `invalidate()` (a 401 from an API).
 */
export class ServiceTokenClient {
  #options: ServiceTokenClientOptions
  #cached: { token: string, renewAt: number } | undefined
  #inFlight: Promise<string> | undefined

  constructor (options: ServiceTokenClientOptions) {
    this.#options = options
  }

  async getToken (): Promise<string> {
    if (this.#cached && Date.now() < this.#cached.renewAt) return this.#cached.token
    this.#inFlight ??= this.#fetchToken().finally(() => { this.#inFlight = undefined })
    return await this.#inFlight
  }

  invalidate (): void {
    this.#cached = undefined
  }

  async #fetchToken (): Promise<string> {
    const response = await fetch(this.#options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: this.#options.clientId,
        client_secret: this.#options.clientSecret,
        scope: this.#options.scope
      }),
      signal: AbortSignal.timeout(10_000)
    })
    if (!response.ok) {
      throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`)
    }
    const body = await response.json() as AccessTokenResponse
    this.#cached = { token: body.access_token, renewAt: Date.now() + body.expires_in * 1000 - RENEW_BEFORE_EXPIRY_MS }
    return body.access_token
  }
}
