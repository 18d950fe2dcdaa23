import { createPublicKey } from 'node:crypto'
import type { Logger } from './logging.ts'

export interface JwksKeyCacheOptions {
  /** The issuer's JWKS, e.g. http://127.0.0.1:3001/.well-known/jwks.json. */
  jwksUrl: string
  /** After this long a known key is still used, and the set is refetched in the background. */
  refreshAfterMs?: number
  /**
   * At most one fetch starts per this interval, however many unknown kids arrive: a flood of
   * forged tokens costs the issuer one request per interval and each forged token a map lookup.
   */
  minFetchIntervalMs?: number
  fetchTimeoutMs?: number
  /** The clock (tests move it past refreshAfterMs). */
  now?: () => number
  log?: Logger
}

interface PublishedKey { kid?: unknown, kty?: unknown, crv?: unknown, x?: unknown, y?: unknown, alg?: unknown, use?: unknown }

/**
 * The public keys of a token issuer by kid, as PEM. A known kid is answered from memory, even
 * when its entry is old; the set is replaced only by a fetch that succeeded, so a key stays
 * usable until the issuer stops publishing it. An unknown kid (key rotation, or a forged
 * token) waits for the fetch in flight or starts one, at most one per minFetchIntervalMs, and
 * is otherwise refused at once. get-jwks was dropped for this: its LRU entries expire, and
 * after expiry a real kid was treated like a forged one (issue 10).
 */
export class JwksKeyCache {
  readonly #options: Required<Omit<JwksKeyCacheOptions, 'log'>> & { log?: Logger }
  #keys = new Map<string, string>()
  #fetchedAt = -Infinity
  #lastAttemptAt = -Infinity
  #inFlight: Promise<void> | undefined

  constructor (options: JwksKeyCacheOptions) {
    this.#options = {
      ...options,
      refreshAfterMs: options.refreshAfterMs ?? 10 * 60_000,
      minFetchIntervalMs: options.minFetchIntervalMs ?? 2_000,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 3_000,
      now: options.now ?? Date.now
    }
  }

  /** How many fetches have started (tests count them). */
  fetchCount = 0

  /** The PEM of the key `kid`, or undefined when the issuer does not publish it. */
  async publicKey (kid: string): Promise<string | undefined> {
    const known = this.#keys.get(kid)
    if (known !== undefined) {
      if (this.#now() - this.#fetchedAt >= this.#options.refreshAfterMs && this.#mayFetch()) {
        this.#refresh().catch(() => {}) // logged in #refresh; the known key keeps working meanwhile
      }
      return known
    }
    if (this.#inFlight === undefined && !this.#mayFetch()) return undefined
    try {
      await this.#refresh()
    } catch {
      return undefined
    }
    return this.#keys.get(kid)
  }

  #now (): number { return this.#options.now() }

  #mayFetch (): boolean {
    return this.#now() - this.#lastAttemptAt >= this.#options.minFetchIntervalMs
  }

  /** One fetch at a time: callers arriving while it runs share it. */
  async #refresh (): Promise<void> {
    this.#inFlight ??= this.#fetchKeys().finally(() => { this.#inFlight = undefined })
    await this.#inFlight
  }

  async #fetchKeys (): Promise<void> {
    this.#lastAttemptAt = this.#now()
    this.fetchCount++
    try {
      const response = await fetch(this.#options.jwksUrl, { signal: AbortSignal.timeout(this.#options.fetchTimeoutMs) })
      if (!response.ok) throw new Error(`the JWKS answered ${response.status}`)
      const body = await response.json() as { keys?: unknown }
      if (!Array.isArray(body.keys)) throw new Error('the JWKS has no keys array')
      const keys = new Map<string, string>()
      for (const key of body.keys as PublishedKey[]) {
        if (typeof key.kid !== 'string' || key.kty !== 'EC' || key.crv !== 'P-256' || (key.use !== undefined && key.use !== 'sig')) continue
        if (key.alg !== undefined && key.alg !== 'ES256') continue
        // node:crypto validates the point; a malformed key is skipped, not fatal to the set.
        try {
          const pem = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: key.x as string, y: key.y as string }, format: 'jwk' })
            .export({ type: 'spki', format: 'pem' }).toString()
          keys.set(key.kid, pem)
        } catch {}
      }
      this.#keys = keys
      this.#fetchedAt = this.#now()
    } catch (err) {
      this.#options.log?.warn({ err, jwksUrl: this.#options.jwksUrl }, 'fetching the JWKS failed; the keys already known stay in use')
      throw err
    }
  }
}
