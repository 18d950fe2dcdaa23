import t from 'tap'
import { closedPort, runCommand } from '@orders/test-support'

// The root commands as a person runs them: `pnpm <command> --help` answers at once with exit 0
// (dlq's own test covers it: tools/dlq/test/process.test.ts), and `pnpm migrate` with
// PostgreSQL down names it in one line.

const run = async (args: string[], env?: Record<string, string>) => await runCommand('pnpm', ['--silent', ...args], env)

for (const [command, usage] of [['migrate', /^usage: pnpm migrate up\|down\|status/], ['dev', /^usage: pnpm dev/], ['chaos', /^usage: pnpm chaos/], ['bench', /pnpm bench \[--duration/]] as const) {
  t.test(`pnpm ${command} --help prints its usage and exits 0, starting nothing`, async t => {
    const help = await run([command, '--help'])
    t.equal(help.code, 0, help.stderr)
    t.match(help.stdout, usage)
    t.ok(help.ms < 15_000, `answered in ${help.ms} ms`)
  })
}

t.test('pnpm migrate with bad usage exits 2 with the usage', async t => {
  const bad = await run(['migrate', 'sideways'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^usage: pnpm migrate/)
})

t.test('pnpm migrate with PostgreSQL down names it in one line and exits 3, without a stack trace', async t => {
  const port = await closedPort()
  const status = await run(['migrate', 'status'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/order_platform` })
  t.equal(status.code, 3)
  // pnpm adds its own ELIFECYCLE line to any failing script.
  const lines = status.stderr.trim().split('\n').filter(line => !/…|ELIFECYCLE/.test(line))
  t.same(lines, [`cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused`], 'progress lines aside, one line')
  t.notMatch(status.stderr, /\n\s+at /, 'no stack trace')
})
