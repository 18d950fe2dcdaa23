/**
 * `pnpm keys list|rotate` — the user-service's token-signing keys (doc/security.md, "Key
 * rotation"). Reads DATABASE_URL, SIGNING_KEY_ENCRYPTION_KEY or _FILE, SIGNING_KEY_PUBLISH_DELAY_SECONDS.
 * Exit status: 0 done, 1 refused or failed, 2 bad usage, 3 PostgreSQL unreachable.
 */
import { readCommandLine } from '@orders/platform/command-line'

// Written out before any import of the platform, so that --help answers at once.
const USAGE = `usage: pnpm keys list
       pnpm keys rotate
       pnpm keys --help

  list     every signing key: kid, when it was added, when it signs from, whether it is encrypted
  rotate   add a new signing key: published in the JWKS at once, signing after the publish delay
           (SIGNING_KEY_PUBLISH_DELAY_SECONDS, default 900); the user-service deletes the old key
           once every token it signed has expired. Also retires keys already past that point.

Reads the user-service's DATABASE_URL (its own role, which owns users.signing_keys; default
postgres://user_service@127.0.0.1:5432/order_platform) and SIGNING_KEY_ENCRYPTION_KEY or
SIGNING_KEY_ENCRYPTION_KEY_FILE (required once the keys are encrypted).
Exit status: 0 done, 1 refused or failed, 2 bad usage, 3 PostgreSQL unreachable.`

const { command, args: rest } = readCommandLine(USAGE)
if ((command !== 'list' && command !== 'rotate') || rest.length > 0) {
  console.error(USAGE)
  process.exit(2)
}

const { Type } = await import('@sinclair/typebox')
const { createDatabase, DependencyUnreachableError, loadConfig, reachDatabase } = await import('@orders/platform')
const admin = await import('@orders/user-service/key-administration')

let config
let encryptionKey: Buffer | undefined
try {
  config = loadConfig(Type.Object({
    DATABASE_URL: Type.String({ default: 'postgres://user_service@127.0.0.1:5432/order_platform' }),
    SIGNING_KEY_ENCRYPTION_KEY: Type.Optional(Type.String()),
    SIGNING_KEY_ENCRYPTION_KEY_FILE: Type.Optional(Type.String()),
    SIGNING_KEY_PUBLISH_DELAY_SECONDS: Type.Integer({ minimum: 0, default: 900 }),
    NODE_ENV: Type.Optional(Type.String())
  }))
  encryptionKey = admin.readEncryptionKey(config)
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}

try {
  await reachDatabase(config.DATABASE_URL)
} catch (err) {
  console.error(err instanceof DependencyUnreachableError ? err.message : String(err))
  process.exit(3)
}

const db = createDatabase<import('@orders/user-service/key-administration').UsersDatabase>({ connectionString: config.DATABASE_URL, poolSize: 1, applicationName: 'pnpm-keys' })
try {
  if (command === 'rotate') {
    const rotated = await admin.rotateSigningKeyChecked(db, { encryptionKey, publishDelayMs: config.SIGNING_KEY_PUBLISH_DELAY_SECONDS * 1000, production: config.NODE_ENV === 'production' })
    console.log(`added signing key ${rotated.kid}: published now, signs from ${rotated.signsFrom.toISOString()}`)
    const retired = await admin.retireSupersededKeys(db)
    for (const kid of retired) console.log(`retired signing key ${kid}: every token it signed has expired`)
  } else {
    for (const key of await admin.listSigningKeys(db)) {
      console.log(`${key.kid}  added ${key.createdAt.toISOString()}  signs from ${key.signsFrom.toISOString()}  ${key.encrypted ? 'encrypted' : 'NOT ENCRYPTED'}`)
    }
  }
} catch (err) {
  console.error(`pnpm keys ${command}: ${(err as Error).message}`)
  process.exitCode = 1
} finally {
  await db.destroy()
}
