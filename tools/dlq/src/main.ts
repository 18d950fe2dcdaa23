/**
 * `pnpm dlq list|replay|purge` — the order-processor's dead-letter queue: list what is in it
 * and why, replay messages to the work queue, or drop them (after a confirmation). AMQP_URL.
 */
import { createInterface } from 'node:readline/promises'
import { runDeadLettersCli } from './cli.ts'

// The same default as every service (platform's config); read here without loading the
// services' plumbing, so that `pnpm dlq --help` answers at once.
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
if (!/^amqps?:\/\//.test(amqpUrl)) {
  console.error(`Invalid configuration from the environment:\n  AMQP_URL: must start with amqp:// or amqps://, got "${amqpUrl}"`)
  process.exit(2)
}
process.exitCode = await runDeadLettersCli(process.argv.slice(2), amqpUrl, {
  out: line => { console.log(line) },
  err: line => { console.error(line) },
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  async confirm (question) {
    const terminal = createInterface({ input: process.stdin, output: process.stdout })
    try {
      return /^y(es)?$/i.test((await terminal.question(question)).trim())
    } finally {
      terminal.close()
    }
  }
})
