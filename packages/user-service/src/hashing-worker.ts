/**
 * The hashing worker's process: hashes and verifications for anonymous requests, one at a time,
 * sent by passwords.ts, which starts it at the lowest CPU priority. workerpool's worker
 * side answers over the IPC channel, and exits when the channel closes, so the worker cannot
 * outlive the service, not even a killed one.
 */
import workerpool from 'workerpool'
import { hashPassword, verifyPassword } from './argon2id.ts'

workerpool.worker({ hash: hashPassword, verify: verifyPassword })
