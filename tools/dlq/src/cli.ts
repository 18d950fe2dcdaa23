import { parseArgs } from 'node:util'
import type { Connection } from 'rabbitmq-client'
import { addressOf, connectToBroker, DependencyUnreachableError } from '@orders/platform/dependencies'
import { QUEUES } from '@orders/contracts'
import { DeadLetterQueue, type DeadLetter } from './dead-letter-queue.ts'

export interface CliIo {
  out: (line: string) => void
  /** Errors, and progress lines while something takes longer than a second. */
  err: (line: string) => void
  /** Whether a person can answer a question (stdin and stdout are a terminal). */
  interactive: boolean
  /** Asks a yes/no question; only called when `interactive`. */
  confirm: (question: string) => Promise<boolean>
}

export const USAGE = `usage: pnpm dlq list [--limit N] [--json]
       pnpm dlq replay --all | <message id>...
       pnpm dlq purge [--yes]
       pnpm dlq --help
Inspects, replays (to the work queue) or drops the order-processor's dead letters (${QUEUES.orderProcessingDeadLetters}); reads AMQP_URL.
Exit status: 0 done, 1 a replay missed an id, a purge was declined or the broker failed, 2 bad usage, 3 RabbitMQ unreachable.`

/** How long to keep trying to reach the broker: a restarting broker is back by then, a down one is reported. */
const CONNECT_TIMEOUT_MS = 2_000
const PROGRESS_EVERY_MS = 1_000

/** `pnpm dlq`: the dead-letter queue for people. Resolves with the exit code (see USAGE). */
export async function runDeadLettersCli (argv: readonly string[], amqpUrl: string, io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { all: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' }, limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
    })
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  const [command, ...ids] = parsed.positionals
  const { all = false, yes = false, json = false, limit, help = false } = parsed.values
  if (help || command === 'help') {
    io.out(USAGE)
    return 0
  }
  const limitNumber = limit === undefined ? 1000 : Number(limit)
  const valid = (command === 'list' && ids.length === 0 && Number.isInteger(limitNumber) && limitNumber > 0) ||
    (command === 'replay' && all !== (ids.length > 0)) ||
    (command === 'purge' && ids.length === 0)
  if (!valid) {
    io.err(USAGE)
    return 2
  }

  let connection: Connection
  try {
    connection = await withProgress(io, () => `connecting to RabbitMQ at ${addressOf(amqpUrl, 5672)}…`,
      connectToBroker(amqpUrl, { connectionName: 'dlq-cli', timeoutMs: CONNECT_TIMEOUT_MS }))
  } catch (err) {
    io.err(err instanceof DependencyUnreachableError ? err.message : `dlq ${command} failed: ${(err as Error).message}`)
    return err instanceof DependencyUnreachableError ? 3 : 1
  }
  try {
    const queue = new DeadLetterQueue(connection)
    if (command === 'list') return await list(queue, limitNumber, json, io)
    if (command === 'replay') return await replay(queue, all ? { all: true } : { messageIds: ids }, io)
    return await purge(queue, yes, io)
  } catch (err) {
    io.err(`dlq ${command} failed: ${(err as Error).message}`)
    return 1
  } finally {
    await connection.close()
  }
}

async function list (queue: DeadLetterQueue, limit: number, json: boolean, io: CliIo): Promise<number> {
  let progress = ''
  const { deadLetters, total } = await withProgress(io, () => `reading dead letters… ${progress}`,
    queue.list({ limit, onProgress: (done, of) => { progress = `${done} of ${of}` } }))
  if (json) {
    for (const deadLetter of deadLetters) io.out(JSON.stringify(deadLetter))
  } else {
    io.out(formatTable(deadLetters))
    io.out(`${total} dead ${total === 1 ? 'letter' : 'letters'} in ${QUEUES.orderProcessingDeadLetters}${total > deadLetters.length ? ` (first ${deadLetters.length} shown)` : ''}`)
  }
  return 0
}

async function replay (queue: DeadLetterQueue, selection: { all: true } | { messageIds: string[] }, io: CliIo): Promise<number> {
  let progress = ''
  const { replayed, notFound } = await withProgress(io, () => `replaying… ${progress}`,
    queue.replay(selection, (done, of) => { progress = `${done} of ${of} looked at` }))
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

/** Says what is going on once a second while `work` runs, so a slow step never looks like a hang. */
async function withProgress<T> (io: CliIo, describe: () => string, work: Promise<T>): Promise<T> {
  const timer = setInterval(() => { io.err(describe()) }, PROGRESS_EVERY_MS)
  try {
    return await work
  } finally {
    clearInterval(timer)
  }
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
