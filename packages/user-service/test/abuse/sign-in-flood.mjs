// The attackers of hashing.test.ts, as a process of their own (started with `nice`, so that on
// this 2-core machine they take CPU from the server only when it has some to spare, as a
// flood from other machines would): 32 sign-ins for unknown emails always in flight, each sent
// again as soon as it is answered, until stdin closes; then prints the count of each status.
const [url, spread] = process.argv.slice(2)
let running = true
let sent = 0
const statuses = {}
process.stdin.on('close', () => { running = false }).resume()
async function attacker (i) {
  while (running) {
    const n = sent++
    const address = spread === 'new per request' ? `10.${n >> 16 & 255}.${n >> 8 & 255}.${n & 255}` : `203.0.113.${i}`
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify({ email: `nobody${n}@example.com`, password: 'a guess' }) })
      .then(async response => { statuses[response.status] = (statuses[response.status] ?? 0) + 1; await response.arrayBuffer() }, () => {})
  }
}
await Promise.all(Array.from({ length: 32 }, (_, i) => attacker(i)))
process.stdout.write(JSON.stringify(statuses))
