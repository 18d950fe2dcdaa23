export * from './launcher.ts'
export * from './isolated-system.ts'
