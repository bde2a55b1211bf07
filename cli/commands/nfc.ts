import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { CardApplet, PcscReader, Type4Tag, VpcdCard } from '../../adapters/nfc/index.js'
import { createTransport } from '../../src/index.js'
import { receiveToFolder } from '../folder-inbox.js'
import { count, file, folder, host, invitationUrl, ms, port, readerName } from '../options.js'
import type { CliContext } from '../registry.js'
import { sendAndAwaitAnswer } from '../send-answer.js'
import { untilSignal } from '../signals.js'

export function register(program: Command, ctx: CliContext): void {
  const nfc = program.command('nfc').description('hand envelopes over NFC: a PC/SC reader, a virtual card for vpcd, an NDEF tag')

  nfc
    .command('reader')
    .description('send a file to the card tapped on a PC/SC reader, and print what it answers')
    .argument('<file>', 'file or envelope')
    .option('--reader <name>', 'part of the reader name (default: the first reader)', readerName)
    .option('--extended', 'use extended APDUs when the card announces them')
    .option('--wait <ms>', 'how long to wait for the reader, for a tap, then for an answer', ms, 30_000)
    .option('--answer-wait <ms>', 'how long to wait for the card to answer after the send', ms, 2000)
    .option('--out <file>', 'write the answer here instead of printing it', file)
    .action(async (file: string, o: { reader?: string; extended?: boolean; wait: number; answerWait: number; out?: string }) => {
      const data = new Uint8Array(await readFile(file))
      const reader = await PcscReader.open({ name: o.reader, timeoutMs: o.wait })
      try {
        ctx.out.info(`tap a card or phone on ${reader.name}…`)
        await reader.waitForCard(o.wait)
        const transport = createTransport(reader.link({ extended: o.extended, pollMs: 10 }))
        const { report, said, answerFields } = await sendAndAwaitAnswer(transport, data, o, ctx)
        await transport.close()
        ctx.out.result(`sent ${data.length} bytes to the card; ${said}`, {
          command: 'nfc reader',
          reader: reader.name,
          bytes: report.envelopeBytes,
          confirmed: report.confirmed,
          ...answerFields,
        })
      } finally {
        await reader.close()
      }
    })

  nfc
    .command('card')
    .description('a virtual card for a vpcd reader (pcscd + vsmartcard-vpcd): receive envelope files, optionally answer')
    .requiredOption('--out <dir>', 'folder for received messages', folder)
    .option('--reply <file>', 'answer each message with this file', file)
    .option('--echo', 'answer each message with itself')
    .option('--count <n>', 'exit after this many messages', count)
    .option('--vpcd-host <host>', 'where pcscd’s vpcd listens', host, '127.0.0.1')
    .option('--vpcd-port <port>', 'vpcd port (35963 = "Virtual PCD 00 00")', port, 35963)
    .option('--extended', 'announce extended APDUs (4 KB commands and answers)')
    .action(
      async (o: {
        out: string
        reply?: string
        echo?: boolean
        count?: number
        vpcdHost: string
        vpcdPort: number
        extended?: boolean
      }) => {
        const reply = o.reply ? new Uint8Array(await readFile(o.reply)) : undefined
        const applet = new CardApplet(o.extended ? { maxCommandData: 4096, maxResponseData: 4096, mtu: 8192 } : {})
        const card = new VpcdCard(applet, { host: o.vpcdHost, port: o.vpcdPort })
        await card.insert()
        const transport = createTransport(applet)
        ctx.out.info(`card in the field of vpcd ${o.vpcdHost}:${o.vpcdPort}; waiting for messages (Ctrl-C to stop)`)
        const done = receiveToFolder(transport, { out: o.out, reply, echo: o.echo, count: o.count }, ctx, 'nfc card')
        try {
          await Promise.race([done, untilSignal()])
        } finally {
          await transport.close()
          card.remove()
        }
      },
    )

  nfc
    .command('tag')
    .description('present an NFC Forum Type 4 Tag with a URI record (an out-of-band invitation) to a vpcd reader')
    .requiredOption('--invitation <url>', 'the invitation URL (https://…?_oob=… or didcomm://…)', invitationUrl)
    .option('--vpcd-host <host>', 'where pcscd’s vpcd listens', host, '127.0.0.1')
    .option('--vpcd-port <port>', 'vpcd port', port, 35963)
    .action(async (o: { invitation: string; vpcdHost: string; vpcdPort: number }) => {
      const card = new VpcdCard(new Type4Tag({ uri: o.invitation, readOnly: true }), { host: o.vpcdHost, port: o.vpcdPort })
      await card.insert()
      ctx.out.result(
        `NDEF tag with ${o.invitation.length}-character invitation in the field of vpcd ${o.vpcdHost}:${o.vpcdPort} (Ctrl-C to stop)`,
        {
          command: 'nfc tag',
          uri: o.invitation,
        },
      )
      await untilSignal()
      card.remove()
    })
}
