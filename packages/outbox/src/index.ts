export * from './table.ts'
export * from './append.ts'
export * from './relay.ts'
