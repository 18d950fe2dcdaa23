export * from './database.ts'
export * from './broker.ts'
export * from './services.ts'
export * from './token-issuer.ts'
