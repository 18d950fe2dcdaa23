export * from './rabbitmq-cluster.ts'
export { findFreePorts, pollUntil } from './waiting.ts'
