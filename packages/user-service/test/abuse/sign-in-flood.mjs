// The attackers of hashing.test.ts, as a process of their own: 32 sign-ins for unknown emails
// always in flight, each sent again as soon as it is answered, until stdin closes; then prints
// the count of each status, how long it ran and the CPU time it used.
//
// Plain sockets and a request written as bytes, not fetch: an attacker on another machine costs
// this one only the answers, so the flood's own CPU must stay small beside the service's (fetch
// costs several milliseconds of CPU per request, more than the service spends refusing one).
import net from 'node:net'

const [url, spread] = process.argv.slice(2)
const { hostname, port, pathname } = new URL(url)
const started = performance.now()
let running = true
let sent = 0
const statuses = {}
process.stdin.on('close', () => { running = false }).resume()

/** Attacker i's next request, from a new address or from its own. */
function request (i) {
  const n = sent++
  const address = spread === 'new per request' ? `10.${n >> 16 & 255}.${n >> 8 & 255}.${n & 255}` : `203.0.113.${i}`
  const body = `{"email":"nobody${n}@example.com","password":"a guess"}`
  return `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `X-Forwarded-For: ${address}\r\n\r\n${body}`
}

/** One attacker: one keep-alive connection, one request at a time; resolves when stopped. */
async function attacker (i) {
  while (running) {
    await new Promise(resolve => {
      const socket = net.connect(Number(port), hostname)
      let buffered = Buffer.alloc(0)
      const next = () => {
        if (!running) { socket.end(); return }
        socket.write(request(i))
      }
      socket.on('connect', next)
      socket.on('data', chunk => {
        buffered = Buffer.concat([buffered, chunk])
        for (;;) {
          const headerEnd = buffered.indexOf('\r\n\r\n')
          if (headerEnd < 0) return
          const head = buffered.subarray(0, headerEnd).toString('latin1')
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0)
          if (buffered.length < headerEnd + 4 + length) return
          const status = head.slice(9, 12)
          statuses[status] = (statuses[status] ?? 0) + 1
          buffered = buffered.subarray(headerEnd + 4 + length)
          next()
        }
      })
      socket.on('error', () => {})
      socket.on('close', resolve)
    })
  }
}

await Promise.all(Array.from({ length: 32 }, (_, i) => attacker(i)))
const { user, system } = process.cpuUsage()
process.stdout.write(JSON.stringify({ statuses, seconds: (performance.now() - started) / 1000, cpuSeconds: (user + system) / 1e6 }))
