import type { Envelope, MessageBody } from 'rabbitmq-client'

/** The parts of a received message (AsyncMessage or SyncMessage) a copy is made of. */
export interface ReceivedMessage {
  body: MessageBody
  exchange: string
  routingKey: string
  headers?: Record<string, unknown>
  contentType?: string
  contentEncoding?: string
  correlationId?: string
  messageId?: string
  timestamp?: number
  type?: string
  appId?: string
}

/**
 * A received message as a new publication to `exchange`/`routingKey`: same body, id, request
 * id and content type, persistent, with `headers` in place of the original ones. Published
 * with `mandatory`, so a copy that no queue takes comes back instead of vanishing.
 */
export function copyOf (message: ReceivedMessage, target: { exchange: string, routingKey: string, headers: Record<string, unknown> }): { envelope: Envelope, body: MessageBody } {
  return {
    envelope: {
      exchange: target.exchange,
      routingKey: target.routingKey,
      mandatory: true,
      durable: true,
      headers: target.headers,
      contentType: message.contentType,
      contentEncoding: message.contentEncoding,
      correlationId: message.correlationId,
      messageId: message.messageId,
      timestamp: message.timestamp,
      type: message.type,
      appId: message.appId
    },
    // rabbitmq-client parsed application/json and text/plain bodies; it serialises them back
    // under the same content type. Anything else is still the Buffer that arrived.
    body: message.body
  }
}
