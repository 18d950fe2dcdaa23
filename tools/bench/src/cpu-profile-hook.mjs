// Loaded into every Node process of a system `pnpm bench --cpu-prof <dir>` starts, through
// NODE_OPTIONS=--import (Node refuses --cpu-prof itself in NODE_OPTIONS). Profiles the whole
// life of the process with the inspector and writes <dir>/<name>-<pid>.cpuprofile when it
// exits; open it in Chrome DevTools (Performance) or summarise it with
// `node --import tsx tools/bench/src/profile-summary.ts <file>`.
import { Session } from 'node:inspector'
import { writeFileSync } from 'node:fs'
import path from 'node:path'

const dir = process.env.BENCH_CPU_PROFILE_DIR
if (dir) {
  const session = new Session()
  session.connect()
  // The default interval (1 ms): finer sampling cost every process about 10 % of a core even
  // when idle, which on 2 cores distorts what is measured.
  session.post('Profiler.enable')
  session.post('Profiler.start')
  const script = (process.argv[1] ?? 'node').split(path.sep).slice(-3).join('_').replace(/\.[cm]?[jt]s$/, '')
  const name = `${process.env.INSTANCE_ID ?? script}-${process.pid}.cpuprofile`
  // The inspector answers synchronously in-process, so this works inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path.join(dir, name), JSON.stringify(result.profile))
    })
  })
}
