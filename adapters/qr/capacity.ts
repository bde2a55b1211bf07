import QRCodeLib from 'qrcode'
// qrcode's own capacity tables (CommonJS modules without typings)
import ECLevelLib from 'qrcode/lib/core/error-correction-level.js'
import ModeLib from 'qrcode/lib/core/mode.js'
import VersionLib from 'qrcode/lib/core/version.js'

/**
 * QR symbols for frames: one core frame per code, byte mode, one version per session. Capacities
 * come from the qrcode package's own tables.
 */
const Version = VersionLib as unknown as { getCapacity(v: number, ecl: unknown, mode: unknown): number }
const ECLevel = ECLevelLib as unknown as { from(v: string): unknown }
const Mode = ModeLib as unknown as { BYTE: unknown; ALPHANUMERIC: unknown }
const QRCode = QRCodeLib as unknown as {
  create(
    segments: { data: Uint8Array; mode: 'byte' }[] | string,
    o: { version?: number; errorCorrectionLevel: string },
  ): {
    modules: { size: number; data: Uint8Array }
    version: number
  }
}

export type Ecc = 'L' | 'M' | 'Q' | 'H'

/** Bytes one code of this version and error correction holds in byte mode: the frame size (Link MTU). */
export function byteCapacity(version: number, ecc: Ecc = 'L'): number {
  if (!Number.isInteger(version) || version < 1 || version > 40) throw new RangeError(`QR version ${version} is not 1–40`)
  return Version.getCapacity(version, ECLevel.from(ecc), Mode.BYTE)
}

/** Characters one code holds in alphanumeric mode (upper-case text such as UR parts). */
export function alphanumericCapacity(version: number, ecc: Ecc = 'L'): number {
  byteCapacity(version, ecc) // validates the version
  return Version.getCapacity(version, ECLevel.from(ecc), Mode.ALPHANUMERIC)
}

/** The session's version when the caller does not choose: v20 for small messages, v25 beyond 16 KB. */
export function defaultVersion(messageBytes: number): number {
  return messageBytes <= 16 * 1024 ? 20 : 25
}

/** A frame as a QR module matrix (1 = dark), in byte mode at exactly this version. */
export function frameToModules(frame: Uint8Array, o: { version: number; ecc?: Ecc }): { size: number; modules: Uint8Array } {
  if (frame.length > byteCapacity(o.version, o.ecc)) {
    throw new RangeError(
      `frame of ${frame.length} bytes exceeds QR v${o.version}-${o.ecc ?? 'L'} (${byteCapacity(o.version, o.ecc)} bytes)`,
    )
  }
  const qr = QRCode.create([{ data: frame, mode: 'byte' }], { version: o.version, errorCorrectionLevel: o.ecc ?? 'L' })
  return { size: qr.modules.size, modules: qr.modules.data }
}

/** Text (a UR part, an invitation URL) as a QR module matrix; the smallest version that holds it. */
export function textToModules(text: string, o: { ecc?: Ecc } = {}): { size: number; modules: Uint8Array; version: number } {
  const qr = QRCode.create(text, { errorCorrectionLevel: o.ecc ?? 'L' })
  return { size: qr.modules.size, modules: qr.modules.data, version: qr.version }
}
