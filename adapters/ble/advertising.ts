/**
 * Legacy advertising (31 bytes each, which every controller and phone supports): the advertisement
 * carries flags and the 128-bit service UUID; the scan response carries the invitation token as
 * service data of that UUID, then as much of the local name as fits.
 */
const AD_FLAGS = 0x01
const AD_COMPLETE_128 = 0x07
const AD_SHORT_NAME = 0x08
const AD_COMPLETE_NAME = 0x09
const AD_SERVICE_DATA_128 = 0x21
const LE_GENERAL_DISCOVERABLE_NO_BREDR = 0x06
const MAX = 31

/** UUID bytes in the little-endian order advertising uses. */
export function uuidBytesLE(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a 128-bit UUID: ${uuid}`)
  return Buffer.from(hex, 'hex').reverse()
}

/** Bare lower-case hex, the form noble and bleno use. */
export function stackUuid(uuid: string): string {
  return uuid.replace(/-/g, '').toLowerCase()
}

export function advertisementData(service: string): Buffer {
  const uuid = uuidBytesLE(service)
  return Buffer.concat([
    Buffer.from([2, AD_FLAGS, LE_GENERAL_DISCOVERABLE_NO_BREDR]),
    Buffer.from([1 + uuid.length, AD_COMPLETE_128]),
    uuid,
  ])
}

export function scanResponseData(service: string, token?: string, name?: string): Buffer {
  const parts: Buffer[] = []
  let used = 0
  if (token) {
    const data = Buffer.concat([uuidBytesLE(service), Buffer.from(token, 'utf8')])
    if (data.length + 2 > MAX) throw new Error(`token too long for the scan response: ${token}`)
    parts.push(Buffer.from([1 + data.length, AD_SERVICE_DATA_128]), data)
    used += 2 + data.length
  }
  if (name && used + 3 <= MAX) {
    const bytes = Buffer.from(name, 'utf8')
    const room = MAX - used - 2
    const cut = bytes.subarray(0, room)
    parts.push(Buffer.from([1 + cut.length, cut.length < bytes.length ? AD_SHORT_NAME : AD_COMPLETE_NAME]), cut)
  }
  return Buffer.concat(parts)
}

/** Does a discovered advertisement (noble's parsed form) carry `token` as service data of `service`? */
export function advertisesToken(
  advertisement: { serviceData?: { uuid: string; data: Buffer }[] },
  service: string,
  token: string,
): boolean {
  const want = stackUuid(service)
  return (advertisement.serviceData ?? []).some(
    (d) => stackUuid(d.uuid) === want && Buffer.from(d.data).toString('utf8') === token,
  )
}
