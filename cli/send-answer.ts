import { writeFile } from 'node:fs/promises'
import type { Received, SendReport, Transport } from '../src/index.js'
import type { CliContext } from './registry.js'

/**
 * Sends `data` with a progress bar (bounded by `wait` ms), then waits up to `answerWait` ms for the
 * peer's answer; written to `out` when given, else returned as text for printing.
 */
export async function sendAndAwaitAnswer(
  transport: Transport,
  data: Uint8Array,
  o: { wait: number; answerWait: number; out?: string },
  ctx: CliContext,
): Promise<{
  report: SendReport
  answer?: Received
  text?: string
  said: string
  answerFields: { answerBytes: number; answer?: string }
}> {
  const answering = (async () => {
    for await (const r of transport.receive()) return r
  })()
  const bar = ctx.out.progress('send', data.length)
  const report = await transport.send(data, {
    signal: AbortSignal.timeout(o.wait),
    onProgress: (p) => bar.update(p.sentBytes),
  })
  bar.stop()
  const answer = await Promise.race([answering, new Promise<undefined>((r) => setTimeout(r, o.answerWait))])
  // our receipt of the answer goes out with the next exchange: give it one before the caller closes
  if (answer) await new Promise((r) => setTimeout(r, 100))
  if (answer && o.out) await writeFile(o.out, answer.data)
  const text = answer && !o.out ? new TextDecoder().decode(answer.data) : undefined
  const said = answer ? `it answered ${answer.data.length} bytes${text ? `:\n${text}` : ''}` : 'no answer'
  return { report, answer, text, said, answerFields: { answerBytes: answer?.data.length ?? 0, answer: text } }
}
