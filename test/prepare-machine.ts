/**
 * Runs once before the test files (.taprc `before`): installs from Debian what the end-to-end
 * and browser tests need when a fresh machine lacks it — HAProxy (the gateway) and Chromium
 * (the browser tests) — so `pnpm test` works after the README's install. Done here, once,
 * because test files run in parallel and apt-get allows one install at a time.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const needed = [
  { pkg: 'haproxy', present: ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'] },
  { pkg: 'chromium', present: ['/usr/bin/chromium'] }
]
const missing = needed.filter(n => !n.present.some(path => existsSync(path))).map(n => n.pkg)

if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`The tests need ${missing.join(' and ')} from Debian: sudo apt-get install -y ${missing.join(' ')}`)
    process.exit(1)
  }
  console.error(`installing ${missing.join(', ')} from Debian for the tests`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env })
  execFileSync('apt-get', ['install', '-y', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env })
}
