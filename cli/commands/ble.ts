import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { BleCentralLink, BlePeripheralLink, HCI_ENV } from '../../adapters/ble/index.js'
import { createTransport } from '../../src/index.js'
import { receiveToFolder } from '../folder-inbox.js'
import { count, file, folder, hci, ms, token } from '../options.js'
import type { CliContext } from '../registry.js'
import { sendAndAwaitAnswer } from '../send-answer.js'
import { untilSignal } from '../signals.js'

const HCI_HELP = `HCI transport: hci:N, uart:PATH[@BAUD] or unix:PATH (default $${HCI_ENV}, else the system's adapter)`

export function register(program: Command, ctx: CliContext): void {
  const ble = program.command('ble').description('exchange envelopes over Bluetooth LE GATT (no network needed)')

  ble
    .command('peripheral')
    .description('advertise the carrier service and receive envelope files; optionally answer each')
    .requiredOption('--out <dir>', 'folder for received messages', folder)
    .option('--reply <file>', 'answer each message with this file', file)
    .option('--echo', 'answer each message with itself')
    .option('--count <n>', 'exit after this many messages', count)
    .option('--token <token>', 'advertise this invitation token (so the right central connects)', token)
    .option('--hci <spec>', HCI_HELP, hci)
    .action(async (o: { out: string; reply?: string; echo?: boolean; count?: number; token?: string; hci?: string }) => {
      const reply = o.reply ? new Uint8Array(await readFile(o.reply)) : undefined
      const link = await BlePeripheralLink.start({ hci: o.hci, token: o.token })
      const transport = createTransport(link)
      link.on('up', (mtu: number) => ctx.out.info(`central connected (ATT MTU ${mtu})`))
      link.on('down', (why: string) => ctx.out.info(`central gone: ${why}`))
      ctx.out.info(`advertising${o.token ? ` with token ${o.token}` : ''}; waiting for messages (Ctrl-C to stop)`)
      const done = receiveToFolder(transport, { out: o.out, reply, echo: o.echo, count: o.count }, ctx, 'ble peripheral')
      try {
        await Promise.race([done, untilSignal()])
        // let the receipt of the last message reach the central before the radio goes
        await new Promise((r) => setTimeout(r, 200))
      } finally {
        await transport.close()
      }
    })

  ble
    .command('central')
    .description('scan for a carrier peripheral, connect, send a file and print what it answers')
    .argument('<file>', 'file or envelope')
    .option('--token <token>', 'connect only to the peripheral advertising this token', token)
    .option('--hci <spec>', HCI_HELP, hci)
    .option('--wait <ms>', 'how long to scan, then how long the send may take', ms, 30_000)
    .option('--answer-wait <ms>', 'how long to wait for an answer after the send', ms, 2000)
    .option('--out <file>', 'write the answer here instead of printing it', file)
    .action(async (file: string, o: { token?: string; hci?: string; wait: number; answerWait: number; out?: string }) => {
      const data = new Uint8Array(await readFile(file))
      const link = await BleCentralLink.connect({ hci: o.hci, token: o.token, scanTimeoutMs: o.wait })
      ctx.out.info(`connected (ATT MTU ${link.negotiatedMtu})`)
      const transport = createTransport(link)
      try {
        const { report, said, answerFields } = await sendAndAwaitAnswer(transport, data, o, ctx)
        ctx.out.result(`sent ${data.length} bytes in ${report.durationMs} ms; the peripheral: ${said}`, {
          command: 'ble central',
          bytes: report.envelopeBytes,
          confirmed: report.confirmed,
          mtu: link.negotiatedMtu,
          durationMs: report.durationMs,
          ...answerFields,
        })
      } finally {
        await transport.close()
      }
    })
}
