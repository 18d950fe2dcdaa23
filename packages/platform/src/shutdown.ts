import closeWithGrace from 'close-with-grace'
import type { Logger } from './logging.ts'

/**
 * On SIGTERM/SIGINT (or a crash) run `close` once: stop taking work, finish what is in
 * flight, close connections. A second signal, or `delayMs` passing, exits at once.
 */
export function closeOnSignals (log: Logger, close: () => Promise<void>, delayMs = 10_000): void {
  closeWithGrace({ delay: delayMs }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    await close()
  })
}
