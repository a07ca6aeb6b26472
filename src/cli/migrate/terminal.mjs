// Prompts and the blob progress bar.
import { createInterface } from 'node:readline/promises'

export async function ask(question, { secret = false } = {}) {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY })
  if (secret && process.stdin.isTTY) {
    // Echo nothing while a password or token is typed.
    rl._writeToOutput = (s) => rl.output.write(s.includes(question) ? s : '')
  }
  const answer = await rl.question(question)
  if (secret && process.stdin.isTTY) process.stdout.write('\n')
  rl.close()
  return answer.trim()
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`

/** `[#####.....] 12/40 blobs, 3.1 MB, 1.2 MB/s, ETA 20s` on one line (a line per update when not a terminal). */
export class Progress {
  constructor(total) {
    this.total = total
    this.count = 0
    this.bytes = 0
    this.started = Date.now()
  }

  add(bytes) {
    this.count++
    this.bytes += bytes
    const secs = (Date.now() - this.started) / 1000 || 0.001
    const rate = this.bytes / secs
    const left = this.total - this.count
    const eta = this.count > 0 ? Math.round((secs / this.count) * left) : 0
    const width = 24
    const filled = this.total > 0 ? Math.min(width, Math.round((this.count / this.total) * width)) : width
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.count}/${this.total} blobs, ${mb(this.bytes)}, ${mb(rate)}/s, ETA ${eta}s`
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`)
    else console.log(line)
  }

  end() {
    if (process.stdout.isTTY) process.stdout.write('\n')
  }
}
