import net from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A TCP proxy in front of a real server, for fault tests: `cut()` drops every open connection
 * and refuses new ones, as an outage would; `restore()` lets traffic through again. The
 * server itself (the machine's PostgreSQL or RabbitMQ) is never touched, so other test runs
 * on the machine go on undisturbed.
 */
export async function startTcpProxy (target: { host?: string, port: number }) {
  const open = new Set<net.Socket>()
  let down = false
  const server = net.createServer(client => {
    if (down) { client.destroy(); return }
    const upstream = net.connect({ host: target.host ?? '127.0.0.1', port: target.port })
    open.add(client).add(upstream)
    const drop = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cut () {
      down = true
      for (const socket of open) socket.destroy()
      open.clear()
    },
    restore () { down = false },
    async close () {
      this.cut()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>

/** The same URL with host and port replaced by the proxy's. */
export function viaProxy (url: string, proxy: TcpProxy): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(proxy.port)
  return parsed.toString()
}
