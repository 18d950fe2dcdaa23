// Only the two entry points and their types: the package's index can re-export this file
// without clashing with the launcher's own helpers (findFreePorts, ExitStatus, LogLine).
export * from './rabbitmq-cluster.ts'
export * from './postgres-ha.ts'
export type { PatroniMember, ClusterMemberStatus } from './patroni-member.ts'
export * from './ha-engines.ts'
