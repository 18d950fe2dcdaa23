import type { Connection, Envelope, MessageBody, PublisherProps, ReturnedMessage } from 'rabbitmq-client'

type Declarations<K extends 'exchanges' | 'queues' | 'queueBindings'> = ReadonlyArray<NonNullable<PublisherProps[K]>[number]>
/** What a publisher declares; the topology's read-only lists fit as they are. */
export interface TopologyDeclarations {
  exchanges: Declarations<'exchanges'>
  queues: Declarations<'queues'>
  queueBindings: Declarations<'queueBindings'>
}

export interface ConfirmedPublisher {
  /**
   * Resolves once the broker has the message in a queue: confirmed, and not returned as
   * unroutable. Only then may the message it copies be acknowledged.
   */
  publish: (envelope: Envelope, body: MessageBody) => Promise<void>
  close: () => Promise<void>
}

/** The broker confirmed the message but no queue took it (a queue deleted under us). */
export class UnroutableMessageError extends Error {
  override name = 'UnroutableMessageError'
}

/**
 * A publisher with confirms that also notices unroutable messages. A confirm alone does not
 * prove delivery: a mandatory message no queue takes is returned (basic.return) and then
 * confirmed all the same. The return arrives first, so it is recorded and checked after the
 * confirm. Declares `declarations` before its first publish and after every reconnect.
 */
export function createConfirmedPublisher (connection: Connection, declarations: TopologyDeclarations): ConfirmedPublisher {
  const returned = new Map<string, number>()
  const keyOf = (message: { exchange?: string, routingKey?: string, messageId?: string }) =>
    `${message.exchange ?? ''}\u0000${message.routingKey ?? ''}\u0000${message.messageId ?? ''}`
  const publisher = connection.createPublisher({
    confirm: true,
    exchanges: [...declarations.exchanges],
    queues: [...declarations.queues],
    queueBindings: [...declarations.queueBindings]
  })
  publisher.on('basic.return', (message: ReturnedMessage) => {
    const key = keyOf(message)
    returned.set(key, (returned.get(key) ?? 0) + 1)
  })
  return {
    async publish (envelope, body) {
      await publisher.send({ ...envelope, mandatory: true }, body)
      const key = keyOf(envelope)
      const count = returned.get(key)
      if (count === undefined) return
      if (count > 1) returned.set(key, count - 1)
      else returned.delete(key)
      throw new UnroutableMessageError(`no queue took the message ${envelope.messageId ?? ''} sent to "${envelope.exchange ?? ''}" with routing key "${envelope.routingKey ?? ''}"`)
    },
    async close () { await publisher.close() }
  }
}
