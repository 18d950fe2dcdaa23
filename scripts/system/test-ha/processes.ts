import { readdir, readFile } from 'node:fs/promises'

/** Processes whose command line names `dir`: what an engine started there and left behind. */
export async function processesUnder (dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes(dir)) found.push(`${entry}: ${cmdline.replaceAll('\0', ' ').trim().slice(0, 200)}`)
  }
  return found
}
