export * from './rabbitmq-cluster.ts'
export { findFreePorts, pollUntil } from './waiting.ts'
export * from './postgres-ha.ts'
export type { PatroniMember, ClusterMemberStatus } from './patroni-member.ts'
