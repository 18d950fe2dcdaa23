export { startSystem, type RunningSystem, type ServiceUrls, type SystemOptions } from './start.ts'
export { startIsolatedSystem, type IsolatedSystem } from './isolated-system.ts'
export { assertPortsFree, findFreePorts, findHaproxy, freeSystemPorts, INSTALL_HAPROXY, localRabbitmqctl } from './prerequisites.ts'
export { createPrefixedWriter } from './log-writer.ts'
export type { ExitStatus, ManagedProcess } from './child.ts'
export * from './topology.ts'
// The HA engines (doc/ha.md): pnpm dev --ha, pnpm chaos --ha and their tests.
export * from './ha/index.ts'
