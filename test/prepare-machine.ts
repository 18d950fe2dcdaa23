/**
 * Runs once before the test files (.taprc `before`): stops the run at once, with the command
 * to run, when the machine lacks what the end-to-end and browser tests need from Debian —
 * HAProxy (the gateway) and Chromium (the browser tests) — instead of letting dozens of test
 * files fail one by one. Nothing is installed here: .ci/run is the one place that installs.
 */
import { existsSync } from 'node:fs'

const needed = [
  { pkg: 'haproxy', present: ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy', '/usr/local/bin/haproxy'] },
  { pkg: 'chromium', present: ['/usr/bin/chromium'] }
]
const missing = needed.filter(n => !n.present.some(path => existsSync(path))).map(n => n.pkg)

if (missing.length > 0) {
  console.error(`The tests need ${missing.join(' and ')} from Debian. Install ${missing.length > 1 ? 'them' : 'it'} (as root) with:\n\n` +
    '    apt-get install -y haproxy chromium\n')
  process.exit(1)
}
