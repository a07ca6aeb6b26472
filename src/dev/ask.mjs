// Questions for the interactive wizards. Lines are read through one async
// iterator, so answers piped in (tests, scripts) are never lost.
import { createInterface } from 'node:readline'

export function asker({ yes }) {
  let lines = null
  const next = async (prompt) => {
    if (!lines) lines = createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]()
    process.stdout.write(prompt)
    const { value, done } = await lines.next()
    if (done) throw new Error(`no answer for: ${prompt.trim()}`)
    if (!process.stdin.isTTY) process.stdout.write('\n')
    return value.trim()
  }
  return {
    /** A value with an optional default; with --yes the default is taken (and required). */
    async text(question, { fallback, validate } = {}) {
      for (;;) {
        let answer
        if (yes) {
          if (fallback === undefined) throw new Error(`--yes needs a value for: ${question} (pass it as a flag)`)
          answer = fallback
        } else {
          answer = (await next(`${question}${fallback ? ` [${fallback}]` : ''}: `)) || fallback || ''
        }
        const problem = validate?.(answer)
        if (!problem) return answer
        if (yes) throw new Error(`${question}: ${problem}`)
        console.log(`  ${problem}`)
      }
    },
    async choose(question, choices, fallback) {
      return this.text(`${question} (${choices.join('/')})`, { fallback, validate: (a) => (choices.includes(a) ? null : `answer one of ${choices.join(', ')}`) })
    },
    async confirm(question, fallback = false) {
      if (yes) return fallback
      const answer = (await next(`${question} [${fallback ? 'Y/n' : 'y/N'}]: `)).toLowerCase()
      return answer === '' ? fallback : answer.startsWith('y')
    },
    close() {
      lines?.return?.()
    },
  }
}
