import { statusChangedRoutingKey } from '@orders/contracts'
import type { Logger } from '@orders/platform'

export interface StatusBindingsOptions {
  /** Binds this replica's notification queue to a routing key on `orders.events` (idempotent on the broker). */
  bind: (routingKey: string) => Promise<void>
  /** Removes that binding (idempotent too: unbinding what is not bound is no error). */
  unbind: (routingKey: string) => Promise<void>
  log: Logger
  /**
   * How long a new socket waits for its user's binding before it opens anyway. With the broker
   * unreachable a bind waits for the connection; the socket should not: it is bound when the
   * consumer is back (`restore`), and a client that missed a change resynchronises with GET /orders.
   */
  bindWaitMs?: number
}

interface UserBinding {
  /** Sockets (and upgrades in progress) of this user on this replica. */
  watchers: number
  /** The queue generation whose binding for this user the broker confirmed; undefined: not bound. */
  boundIn: number | undefined
  /** The run that brings the binding in line with `watchers`, while one is going: one per user. */
  settling: Promise<void> | undefined
}

/**
 * Which users' status events this replica's queue receives: `order_status_changed.<user id>`
 * is bound on a user's first socket here and unbound after their last one closed, so a replica
 * hears only of the orders someone there is watching (doc/messaging.md, "Live status").
 *
 * One serialized state per user: at most one bind or unbind of theirs is in flight, and when it
 * is done the run looks again at how many sockets they have now. So a socket that opens while
 * the unbind is in flight gets a bind after it, and a last socket that closes while the bind is
 * in flight gets an unbind after it; the broker never ends up in the other state.
 *
 * The queue is exclusive: a lost connection deletes it with its bindings, and the consumer
 * declares it afresh when it is back. `restore()` (on the consumer's every `ready`) counts a
 * new generation of the queue, in which nobody is bound yet, and binds every watched user again.
 */
export class StatusBindings {
  readonly #users = new Map<string, UserBinding>()
  readonly #bind: (routingKey: string) => Promise<void>
  readonly #unbind: (routingKey: string) => Promise<void>
  readonly #log: Logger
  readonly #bindWaitMs: number
  #generation = 0
  #stopped = false

  constructor (options: StatusBindingsOptions) {
    this.#bind = options.bind
    this.#unbind = options.unbind
    this.#log = options.log
    this.#bindWaitMs = options.bindWaitMs ?? 2_000
  }

  /** Users whose binding the broker confirmed for the current queue. */
  get boundUsers (): number {
    let count = 0
    for (const user of this.#users.values()) if (user.boundIn === this.#generation) count++
    return count
  }

  isBound (userId: string): boolean {
    return this.#users.get(userId)?.boundIn === this.#generation
  }

  /**
   * One more watcher of `userId`'s orders. Resolves once their binding is in place (at most
   * bindWaitMs), with the function that ends this watch (calling it again does nothing).
   */
  async watch (userId: string): Promise<() => void> {
    statusChangedRoutingKey(userId) // throws for a user id that could be a wildcard, before anything is counted
    let user = this.#users.get(userId)
    if (user === undefined) this.#users.set(userId, user = { watchers: 0, boundIn: undefined, settling: undefined })
    user.watchers++
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      user.watchers--
      void this.#settle(userId, user)
    }
    // Also while a run is out: it may be the unbind of the user's previous last socket.
    if (user.settling !== undefined || user.boundIn !== this.#generation) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.#settle(userId, user),
        new Promise<void>(resolve => { timer = setTimeout(resolve, this.#bindWaitMs) })
      ])
      clearTimeout(timer)
    }
    return end
  }

  /** The queue was declared afresh (the consumer is ready again): it has no bindings; bind every watched user. */
  restore (): void {
    this.#generation++
    for (const [userId, user] of this.#users) void this.#settle(userId, user)
  }

  /** Shutdown: the queue goes with the connection, so the sockets closing now need no unbind. */
  stop (): void {
    this.#stopped = true
  }

  #settle (userId: string, user: UserBinding): Promise<void> {
    // Started on the next microtask, so `settling` is set before the run can clear it.
    user.settling ??= Promise.resolve().then(async () => { await this.#run(userId, user) })
    return user.settling
  }

  async #run (userId: string, user: UserBinding): Promise<void> {
    const routingKey = statusChangedRoutingKey(userId)
    while (!this.#stopped) {
      const generation = this.#generation
      const wanted = user.watchers > 0
      if (wanted === (user.boundIn === generation)) break
      try {
        if (wanted) await this.#bind(routingKey)
        else await this.#unbind(routingKey)
        // A restore() meanwhile makes this generation an old one: the next turn binds again.
        user.boundIn = wanted ? generation : undefined
      } catch (err) {
        this.#log.warn({ err, user_id: userId }, `could not ${wanted ? 'bind' : 'unbind'} a user's status events (retried when the consumer is ready again)`)
        // Unless the queue came back meanwhile, the next try is restore()'s.
        if (generation === this.#generation) break
      }
    }
    // Synchronously after the last look: a watch() from now on starts a run of its own.
    user.settling = undefined
    if (user.watchers === 0 && user.boundIn !== this.#generation) this.#users.delete(userId)
  }
}
