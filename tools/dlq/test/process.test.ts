import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { closedPort, runCommand as run } from '@orders/test-support'

// `pnpm dlq` as a person runs it: the root script, a real process, its exit status and output.

const dlq = async (args: string[], env?: Record<string, string>) => await run(process.execPath, ['--import', 'tsx', 'tools/dlq/src/main.ts', ...args], env)

/**
 * How long the command took beyond starting Node and loading its modules, which a busy machine
 * can stretch to seconds: measured in the same test by a process that loads the same modules
 * and does nothing else.
 */
async function beyondStart (ms: number): Promise<number> {
  const started = Date.now()
  const loaded = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "await import('./tools/dlq/src/cli.ts')"])
  if (loaded.code !== 0) throw new Error(`loading the command's modules failed: ${loaded.stderr}`)
  return ms - (Date.now() - started)
}

t.test('pnpm dlq --help prints the usage and exits 0', async t => {
  const help = await run('pnpm', ['--silent', 'dlq', '--help'])
  t.equal(help.code, 0, help.stderr)
  t.match(help.stdout, /^usage: pnpm dlq list/)
  t.match(help.stdout, /pnpm dlq purge \[--yes\]/)
})

t.test('with RabbitMQ down it says so in one line within 5 s and exits 3, without a stack trace', async t => {
  const port = await closedPort()
  const result = await dlq(['list'], { AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}` })
  t.equal(result.code, 3)
  t.equal(result.stderr.trim(), `cannot reach RabbitMQ at 127.0.0.1:${port}: connection refused`)
  t.equal(result.stdout, '')
  const waited = await beyondStart(result.ms)
  t.ok(waited < 5_000, `answered in ${result.ms} ms, ${waited} ms beyond starting`)
})

t.test('a broker that does not answer: progress while connecting, then the reason', async t => {
  // Accepts TCP connections and never speaks AMQP, like a hung broker or a black-holed port.
  const sockets = new Set<net.Socket>()
  const silent = net.createServer(socket => { sockets.add(socket); socket.on('error', () => {}) }).listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => { for (const socket of sockets) socket.destroy(); silent.close() })
  const { port } = silent.address() as net.AddressInfo

  const result = await dlq(['list'], { AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}` })
  t.equal(result.code, 3)
  const lines = result.stderr.trim().split('\n')
  t.match(lines, [`connecting to RabbitMQ at 127.0.0.1:${port}…`])
  t.match(lines.at(-1), new RegExp(`^cannot reach RabbitMQ at 127\\.0\\.0\\.1:${port}: `))
  t.notMatch(result.stderr, /Unhandled|\n\s+at /)
  const waited = await beyondStart(result.ms)
  t.ok(waited < 5_000, `answered in ${result.ms} ms, ${waited} ms beyond starting`)
})

t.test('bad usage prints the usage on stderr and exits 2', async t => {
  const result = await dlq(['frobnicate'])
  t.equal(result.code, 2)
  t.match(result.stderr, /^usage: pnpm dlq/)
})
