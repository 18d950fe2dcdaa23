import type { Kysely } from 'kysely'
import type { FastifyBaseLogger } from 'fastify'
import type { UsersDatabase } from './database.ts'
import type { SigningKeys } from './signing-keys.ts'
import { retireSupersededKeys, rotateIfDue } from './key-rotation.ts'

export interface KeyMaintenanceOptions {
  db: Kysely<UsersDatabase>
  signingKeys: SigningKeys
  encryptionKey: Buffer | undefined
  /** 0: no scheduled rotation. */
  rotationIntervalMs: number
  publishDelayMs: number
  /**
   * How often the table is read again. Far below the publish delay, so every replica has a new
   * key loaded before it starts signing, and signs with it within this long after.
   */
  everyMs?: number
  log: FastifyBaseLogger
}

/**
 * Each replica's periodic work on the signing keys: rotate when the schedule says so, delete
 * keys whose tokens have all expired, reload the table. Returns the function that stops it.
 */
export function startKeyMaintenance (options: KeyMaintenanceOptions): () => Promise<void> {
  const { db, signingKeys, log } = options
  let running: Promise<void> | undefined
  const tick = async (): Promise<void> => {
    try {
      if (options.rotationIntervalMs > 0) {
        const rotated = await rotateIfDue(db, { intervalMs: options.rotationIntervalMs, publishDelayMs: options.publishDelayMs, encryptionKey: options.encryptionKey })
        if (rotated !== undefined) log.info({ kid: rotated.kid, signsFrom: rotated.signsFrom }, 'scheduled key rotation: a new signing key is published')
      }
      const retired = await retireSupersededKeys(db)
      if (retired.length > 0) log.info({ kids: retired }, 'signing keys retired: every token they signed has expired')
      await signingKeys.reload()
    } catch (err) {
      // The keys already loaded keep working; the next tick tries again.
      log.warn({ err }, 'signing key maintenance failed')
    }
  }
  const timer = setInterval(() => { running ??= tick().finally(() => { running = undefined }) }, options.everyMs ?? 30_000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
