import { fileURLToPath } from 'node:url'

/** The package directory: index.html, client/ (the browser app), src/ (the server). */
export const WEB_ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Vite's output, served by the server (git-ignored). */
export const DIST_DIR = fileURLToPath(new URL('../dist', import.meta.url))
