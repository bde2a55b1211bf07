import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { modulesToImage, QrCameraLink } from '../../adapters/qr/index.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { haveTmux } from '../support/browsers.js'
import { tempDir } from '../support/temp.js'

/** The terminal code as tmux shows it, back to modules: '█' both light, '▀' top light, '▄' bottom light, ' ' both dark. */
function paneToModules(text: string): { size: number; modules: Uint8Array } | undefined {
  const lines = text.split('\n').filter((l) => /^[█▀▄ ]+$/.test(l) && l.trim().length > 0)
  const n = lines[0]?.length ?? 0
  const block = lines.filter((l) => l.length === n)
  if (n < 21 || block.length * 2 < n) return undefined
  const modules = new Uint8Array(n * n)
  for (let y = 0; y < n; y++) {
    const line = block[y >> 1] as string
    for (let x = 0; x < n; x++) {
      const c = line[x]
      const light = (y & 1) === 0 ? c === '█' || c === '▀' : c === '█' || c === '▄'
      modules[y * n + x] = light ? 0 : 1
    }
  }
  return { size: n, modules }
}

describe.skipIf(!haveTmux())('carrier qr show in a real terminal (tmux)', () => {
  it('the animation captured with capture-pane decodes to the message', { timeout: 90_000 }, async () => {
    const dir = tempDir('carrier-tmux-')
    const message = JSON.stringify({ protected: 'eyJ0eXAiOiJKV00ifQ', ciphertext: 'terminal-hand-off-'.repeat(30) })
    writeFileSync(join(dir, 'msg.json'), message)
    const session = `carrier-qr-${process.pid}`
    const cmd = `${process.execPath} --import tsx cli/entry.ts qr show ${join(dir, 'msg.json')} --fps 5 --version 6`
    execFileSync('tmux', ['-u', 'new-session', '-d', '-x', '120', '-y', '60', '-s', session, cmd], { cwd: process.cwd() })
    const camera = new QrCameraLink()
    const receiver = createTransport(camera)
    const inbox = receiver.receive()[Symbol.asyncIterator]()
    let done = false
    let captures = 0
    const got = inbox.next().then((r) => {
      done = true
      return r.value
    })
    try {
      const deadline = Date.now() + 60_000
      while (!done && Date.now() < deadline) {
        const text = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' })
        const code = paneToModules(text)
        if (code) {
          captures++
          await camera.feed(modulesToImage(code, { scale: 3 }))
        }
        await new Promise((r) => setTimeout(r, 80))
      }
      const received = await Promise.race([got, new Promise<undefined>((r) => setTimeout(r, 100))])
      expect(captures).toBeGreaterThan(0)
      expect(new TextDecoder().decode(received?.data)).toBe(message)
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' })
      await receiver.close()
    }
  })
})
