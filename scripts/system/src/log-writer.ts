import { GATEWAY, SERVICES } from './topology.ts'

const COLOR_OF = new Map<string, number>([...SERVICES.map(s => [s.name, s.color] as const), [GATEWAY.name, GATEWAY.color], ['system', 1]])
const NAME_WIDTH = Math.max(...[...COLOR_OF.keys()].map(name => name.length))

/** Writes "name | line" to the stream, the name colored (the table's color) when it is a terminal. */
export function createPrefixedWriter (stream: NodeJS.WriteStream = process.stdout): (source: string, line: string) => void {
  const color = stream.isTTY === true
  return (source, line) => {
    const name = source.padEnd(NAME_WIDTH)
    stream.write(`${color ? `\x1b[${COLOR_OF.get(source) ?? 90}m${name}\x1b[0m` : name} | ${line}\n`)
  }
}
