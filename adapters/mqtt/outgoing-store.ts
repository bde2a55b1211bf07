import type { MqttClient } from 'mqtt'

type Callback = (err?: Error) => void
type Packet = { cmd: string; payload?: unknown; properties?: Record<string, unknown> }
type Internals = {
  _storeAndSend(packet: Packet, cb: Callback | undefined, cbStorePut: () => void): void
  _removeTopicAliasAndRecoverTopicName(packet: Packet): Error | undefined
  _writePacket(packet: Packet, cb: Callback | undefined): void
  outgoingStore: { put(packet: Packet, cb: Callback): unknown }
}

/**
 * mqtt.js keeps each QoS 1 publish in its outgoing store until the PUBACK, to send it again after a
 * reconnect, and stores a deep copy (rfdc) so it can take the topic alias out of the copy: the
 * payload is copied too. For a file that is every byte once more, and a copy that lives until the
 * broker answers, long enough to outlive two young-generation collections: 256 MB of garbage per
 * 256 MB sent that only a full collection frees. Measured, 256 MB `send-file` → `listen` through
 * mosquitto with the CLI collecting the young generation only: without the copy the sender's
 * ArrayBuffers stay at 7–9 MB (with it they climb to 50–60 MB between V8's full collections, which
 * it then runs every ~170 ms).
 *
 * This stores a shallow copy instead (its own `properties`, the same payload): the same steps as
 * mqtt.js 5's `_storeAndSend`, which nothing but the alias touches. Payloads are never changed
 * after publish, by us or by mqtt.js. A client without those internals (another mqtt.js) is left
 * as it is; test/mqtt/outgoing-store.test.ts pins the one we ship.
 */
export function storeWithoutCopy(client: MqttClient): boolean {
  const c = client as unknown as Internals
  const original = c._storeAndSend
  if (
    typeof original !== 'function' ||
    typeof c._removeTopicAliasAndRecoverTopicName !== 'function' ||
    typeof c._writePacket !== 'function'
  )
    return false
  c._storeAndSend = function (this: Internals, packet, cb, cbStorePut) {
    if (packet.cmd !== 'publish') return original.call(this, packet, cb, cbStorePut)
    const stored: Packet = { ...packet, ...(packet.properties ? { properties: { ...packet.properties } } : {}) }
    const err = this._removeTopicAliasAndRecoverTopicName(stored)
    if (err) return void cb?.(err)
    this.outgoingStore.put(stored, (err2) => {
      if (err2) return void cb?.(err2)
      cbStorePut()
      this._writePacket(packet, cb)
    })
  }
  return true
}
