import { loadOptional } from '../optional.js'

type MqttPacketModule = { writeToStream: { cacheNumbers: boolean } }

/**
 * mqtt-packet (the codec under mqtt.js and aedes) by default builds, on its first packet, a 2-byte
 * Buffer for every packet id 0–65,535 and keeps them: 65,536 objects, 6.3 MB of a `carrier listen`'s
 * 20 MB heap (a heap snapshot of an idle listener), which every full collection marks again. The
 * CLI then collected the whole heap every 8 MiB of a file (cli/memory.ts), so a 256 MB transfer paid
 * for it ~60 times per process. Without the cache a packet id costs a 2-byte buffer when it is written. Measured,
 * 256 MB `send-file` → `listen` through mosquitto (3 runs each): user CPU sender 4.5–5.0 → 4.0–4.2 s,
 * listener 4.5–5.0 → 3.8–4.0 s; peak RSS 96–101 → 89–96 MB; the run 7.4–7.7 → 6.7–6.8 s.
 * One module for the process (mqtt.js and aedes share it), so this holds for both once called.
 */
export async function skipPacketIdCache(): Promise<void> {
  const mod = await loadOptional<MqttPacketModule | { default: MqttPacketModule }>('mqtt-packet', 'the MQTT adapter')
  const packet = 'default' in mod ? mod.default : mod
  packet.writeToStream.cacheNumbers = false
}
