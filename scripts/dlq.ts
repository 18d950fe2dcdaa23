/**
 * `pnpm dlq list|replay|purge` — the order-processor's dead-letter queue: list what is in it
 * and why, replay messages to the work queue, or drop them (after a confirmation). AMQP_URL.
 */
import { createInterface } from 'node:readline/promises'
import { Type } from '@sinclair/typebox'
import { commonConfigProperties, loadConfig } from '@orders/platform'
import { runDeadLettersCli } from '@orders/order-processor/dead-letters-cli'

const config = loadConfig(Type.Object({ AMQP_URL: commonConfigProperties.AMQP_URL }))
process.exitCode = await runDeadLettersCli(process.argv.slice(2), config.AMQP_URL, {
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
