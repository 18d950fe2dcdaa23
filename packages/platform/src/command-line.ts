/**
 * The command line of a small CLI (`pnpm migrate`, `pnpm keys`): `--help` (or `help`) prints the
 * usage and exits 0; an unknown option prints why and the usage on stderr and exits 2. Imports
 * nothing but node:util, so a CLI answers --help before it loads pg, kysely or typebox.
 */
import { parseArgs } from 'node:util'

export function readCommandLine (usage: string, argv: readonly string[] = process.argv.slice(2)): { command: string | undefined, args: string[] } {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } })
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`)
    process.exit(2)
  }
  const [command, ...args] = parsed.positionals
  if (parsed.values.help === true || command === 'help') {
    console.log(usage)
    process.exit(0)
  }
  return { command, args }
}
