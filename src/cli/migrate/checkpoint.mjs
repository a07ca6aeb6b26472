// The migration's progress on disk: a rerun continues where the last one stopped.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

export class Checkpoint {
  constructor(file) {
    this.file = file
    this.state = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { done: {} }
  }

  done(step) {
    return Boolean(this.state.done[step])
  }

  /** Records a finished step (and anything it learned), atomically: a crash leaves the old file or the new one. */
  mark(step, extra = {}) {
    Object.assign(this.state, extra)
    this.state.done[step] = new Date().toISOString()
    this.save()
  }

  save() {
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.state, null, 2), { mode: 0o600 })
    renameSync(`${this.file}.tmp`, this.file)
  }
}
