import { parseArgs } from 'node:util'
import { Connection } from 'rabbitmq-client'
import { QUEUES } from '@orders/contracts'
import { DeadLetterQueue, type DeadLetter } from './dead-letters.ts'

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
  /** Whether a person can answer a question (stdin and stdout are a terminal). */
  interactive: boolean
  /** Asks a yes/no question; only called when `interactive`. */
  confirm: (question: string) => Promise<boolean>
}

export const USAGE = `usage: pnpm dlq list [--limit N] [--json]
       pnpm dlq replay --all | <message id>...
       pnpm dlq purge [--yes]
Inspects, replays (to the work queue) or drops the order-processor's dead letters (${QUEUES.orderProcessingDeadLetters}); reads AMQP_URL.`

/**
 * `pnpm dlq`: the dead-letter queue for people. Resolves with the exit code: 0 done, 1 a
 * replay did not find every id or a purge was declined, 2 bad usage or no confirmation possible.
 */
export async function runDeadLettersCli (argv: readonly string[], amqpUrl: string, io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { all: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' }, limit: { type: 'string' } }
    })
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  const [command, ...ids] = parsed.positionals
  const { all = false, yes = false, json = false, limit } = parsed.values
  const limitNumber = limit === undefined ? 1000 : Number(limit)
  const valid = (command === 'list' && ids.length === 0 && Number.isInteger(limitNumber) && limitNumber > 0) ||
    (command === 'replay' && all !== (ids.length > 0)) ||
    (command === 'purge' && ids.length === 0)
  if (!valid) {
    io.err(USAGE)
    return 2
  }

  const connection = new Connection({ url: amqpUrl, connectionName: 'dlq-cli', retryLow: 100, retryHigh: 1_000 })
  const queue = new DeadLetterQueue(connection)
  try {
    if (command === 'list') return await list(queue, limitNumber, json, io)
    if (command === 'replay') return await replay(queue, all ? { all: true } : { messageIds: ids }, io)
    return await purge(queue, yes, io)
  } finally {
    await connection.close()
  }
}

async function list (queue: DeadLetterQueue, limit: number, json: boolean, io: CliIo): Promise<number> {
  const { deadLetters, total } = await queue.list({ limit })
  if (json) {
    for (const deadLetter of deadLetters) io.out(JSON.stringify(deadLetter))
  } else {
    io.out(formatTable(deadLetters))
    io.out(`${total} dead ${total === 1 ? 'letter' : 'letters'} in ${QUEUES.orderProcessingDeadLetters}${total > deadLetters.length ? ` (first ${deadLetters.length} shown)` : ''}`)
  }
  return 0
}

async function replay (queue: DeadLetterQueue, selection: { all: true } | { messageIds: string[] }, io: CliIo): Promise<number> {
  const { replayed, notFound } = await queue.replay(selection)
  for (const deadLetter of replayed) io.out(`replayed ${deadLetter.messageId ?? '(no message id)'} (order ${deadLetter.orderId ?? '?'})`)
  io.out(`${replayed.length} replayed to ${QUEUES.orderProcessing}`)
  if (notFound.length > 0) {
    io.err(`not in the dead-letter queue: ${notFound.join(', ')}`)
    return 1
  }
  return 0
}

async function purge (queue: DeadLetterQueue, yes: boolean, io: CliIo): Promise<number> {
  const count = await queue.count()
  if (count === 0) {
    io.out('the dead-letter queue is empty; nothing to purge')
    return 0
  }
  if (!yes) {
    if (!io.interactive) {
      io.err(`refusing to purge ${count} dead letters without a confirmation: not a terminal (pass --yes)`)
      return 2
    }
    if (!await io.confirm(`Drop ${count} dead ${count === 1 ? 'letter' : 'letters'} from ${QUEUES.orderProcessingDeadLetters} for good? [y/N] `)) {
      io.out('nothing purged')
      return 1
    }
  }
  const purged = await queue.purge()
  io.out(`purged ${purged} dead ${purged === 1 ? 'letter' : 'letters'}`)
  return 0
}

function formatTable (deadLetters: DeadLetter[]): string {
  const rows = [
    ['MESSAGE ID', 'ORDER ID', 'REASON', 'RETRIES', 'FAILED AT', 'DETAIL'],
    ...deadLetters.map(d => [
      d.messageId ?? '-', d.orderId ?? '-', d.reason, String(d.retryAttempts), d.failedAt ?? '-', (d.detail ?? '').slice(0, 100)
    ])
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map(row => row[column]!.length)))
  return rows.map(row => row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]!)).join('  ')).join('\n')
}
