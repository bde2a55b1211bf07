import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { MqttNode, MqttTransport, recipientKey, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { isTopicSafe } from '../../adapters/mqtt/topics.js'
import { count, folder, group, inbox, integer, mqttUri, ms, port } from '../options.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'

/** An inbox given as a recipient key, or as the DID URL of the key agreement key (hashed into one). */
async function toRk(value: string): Promise<string> {
  if (value.startsWith('did:')) return recipientKey(value)
  if (!isTopicSafe(value)) throw new Error(`not a recipient key or DID: ${value}`)
  return value
}

function extensionFor(mediaType: string): string {
  return mediaType.includes('json') ? 'json' : 'bin'
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('broker')
    .description('run the embedded MQTT broker (aedes) on 127.0.0.1 until interrupted')
    .option('--port <n>', 'TCP port (0 = any free port)', port, 1883)
    .option(
      '--max-packet <bytes>',
      'refuse publishes larger than this',
      integer(1024, 268_435_455, 'a packet size in bytes'),
      1024 * 1024,
    )
    .action(async (o: { port: number; maxPacket: number }) => {
      const broker = await startEmbeddedBroker({ port: o.port, maxPacketBytes: o.maxPacket })
      ctx.out.result(`MQTT broker listening on ${broker.url} (Ctrl-C to stop)`, {
        command: 'broker',
        url: broker.url,
        port: broker.port,
      })
      await untilSignal()
      await broker.close()
    })

  const mqtt = program.command('mqtt').description('send and receive raw envelope files through an MQTT broker')

  mqtt
    .command('send')
    .description('send an envelope file to an inbox (chunked, acknowledged end to end)')
    .requiredOption('--broker <url>', 'mqtt://, mqtts://, ws:// or wss:// broker URL', mqttUri)
    .requiredOption('--to <rk|did>', "the recipient's inbox: recipient key, or the DID URL of its key", inbox)
    .option('--from <rk|did>', 'our inbox for the answers (default: a fresh one)', inbox)
    .option('--bare', 'publish the envelope whole (agents that do not chunk); no end-to-end ack', false)
    .option('--timeout <ms>', 'give up after this long without an answer', ms, 30_000)
    .argument('<file>', 'envelope file')
    .action(async (file: string, o: { broker: string; to: string; from?: string; bare: boolean; timeout: number }) => {
      const data = new Uint8Array(await readFile(file))
      const node = await MqttNode.connect(o.broker)
      try {
        const from = o.from ? await toRk(o.from) : `cli${node.iid}`
        const transport = new MqttTransport(await node.openInbox(from), { transferTimeoutMs: o.timeout })
        const bar = ctx.out.progress('send', data.length)
        const report = await transport.send(await toRk(o.to), data, {
          bare: o.bare,
          onProgress: (p) => bar.update(p.sentBytes, p.totalBytes),
        })
        bar.stop()
        await transport.close()
        ctx.out.result(
          `sent ${report.envelopeBytes} bytes in ${report.frames} frames (${report.retransmissions} resent), ${report.confirmed ? 'confirmed by the receiver' : 'not confirmed (bare)'}`,
          { command: 'mqtt send', ...report },
        )
      } finally {
        await node.close()
      }
    })

  mqtt
    .command('receive')
    .description('receive envelopes into a folder, one raw file each')
    .requiredOption('--broker <url>', 'broker URL', mqttUri)
    .requiredOption('--inbox <rk|did>', 'the inbox to read', inbox)
    .requiredOption('--out <dir>', 'folder for the received envelopes', folder)
    .option('--count <n>', 'exit after this many messages', count)
    .option('--group <name>', 'share the inbox with other consumers ($share/<name>/…)', group)
    .action(async (o: { broker: string; inbox: string; out: string; count?: number; group?: string }) => {
      await mkdir(o.out, { recursive: true })
      const node = await MqttNode.connect(o.broker, { persistentSession: o.group === undefined })
      const transport = new MqttTransport(await node.openInbox(await toRk(o.inbox), { group: o.group }))
      ctx.out.info(`listening on inbox ${transport.rk}`)
      let n = 0
      const stop = () => void transport.close()
      process.once('SIGINT', stop)
      for await (const m of transport.receive()) {
        const name = `${String(++n).padStart(4, '0')}-${m.transferId.replace(/[^A-Za-z0-9_-]/g, '')}.${extensionFor(m.mediaType)}`
        await writeFile(join(o.out, name), m.data)
        ctx.out.result(`${name}: ${m.data.length} bytes, ${m.mediaType}, from ${m.from ?? '(bare)'}`, {
          command: 'mqtt receive',
          file: name,
          bytes: m.data.length,
          mediaType: m.mediaType,
          from: m.from ?? null,
        })
        if (o.count !== undefined && n >= o.count) break
      }
      process.off('SIGINT', stop)
      await transport.close()
      await node.close()
    })
}
