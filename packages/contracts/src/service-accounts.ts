import { EXCHANGES, NOTIFICATION_QUEUE_PREFIX, PROCESSOR_NAME_PREFIX } from './topology.ts'

/**
 * Who connects to PostgreSQL and RabbitMQ: one account per service, each with a database role
 * of its own and a broker user of its own (doc/security.md, "Least privilege"). The
 * order-service's replicas and its standalone relay share the order-service's account.
 */
export const SERVICE_ACCOUNTS = ['user-service', 'order-service', 'order-processor'] as const
export type ServiceAccount = (typeof SERVICE_ACCOUNTS)[number]

/**
 * RabbitMQ's permissions of one user on one vhost: three regular expressions over exchange and
 * queue names (`rabbitmqctl set_permissions <user> <configure> <write> <read>`). What each AMQP
 * operation needs (RabbitMQ's access-control guide): a declare, configure on what it declares
 * (a queue with a dead-letter exchange also write on that exchange and read on the queue); a
 * passive declare, nothing; queue.bind, write on the queue and read on the exchange;
 * basic.publish, write on the exchange; basic.consume and basic.get, read on the queue.
 */
export interface BrokerPermissions { configure: string, write: string, read: string }

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** Exactly these names, or names starting with a prefix given as `{ prefix }`. */
function names (...entries: Array<string | { prefix: string }>): string {
  return `^(${entries.map(entry => typeof entry === 'string' ? escape(entry) : `${escape(entry.prefix)}.*`).join('|')})$`
}
/** Matches no name at all (RabbitMQ reads "" the same way). */
export const NO_RESOURCE = '^$'

const notificationQueues = { prefix: NOTIFICATION_QUEUE_PREFIX }
const processorOwn = { prefix: PROCESSOR_NAME_PREFIX }

/**
 * What each service may do on the platform's vhost, from the topology (topology.ts) and what
 * its publishers and consumers declare:
 * - user-service: declares and publishes to `users.events`, reads nothing;
 * - order-service: declares and publishes to `orders.events`; declares its replicas'
 *   notification queues, binds and unbinds them to `orders.events` by user at run time
 *   (`order_status_changed.<user id>`; queue.bind and queue.unbind take write on the queue and
 *   read on the exchange) and consumes them. Read on `orders.events` is for binding only (an
 *   exchange cannot be consumed); write on its own queues lets it bind nothing but them;
 * - order-processor: everything named `order-processor.*` (its work, delay, grace and
 *   dead-letter queues and exchanges), and read on `orders.events` to bind its work queue
 *   there; it never declares or publishes to another service's exchange.
 */
export const BROKER_PERMISSIONS: Readonly<Record<ServiceAccount, BrokerPermissions>> = {
  'user-service': {
    configure: names(EXCHANGES.userEvents),
    write: names(EXCHANGES.userEvents),
    read: NO_RESOURCE
  },
  'order-service': {
    configure: names(EXCHANGES.orderEvents, notificationQueues),
    write: names(EXCHANGES.orderEvents, notificationQueues),
    read: names(EXCHANGES.orderEvents, notificationQueues)
  },
  'order-processor': {
    configure: names(processorOwn),
    write: names(processorOwn),
    read: names(EXCHANGES.orderEvents, processorOwn)
  }
}
