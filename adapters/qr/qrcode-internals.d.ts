// qrcode's capacity tables are CommonJS modules without typings; only what capacity.ts uses.
declare module 'qrcode/lib/core/version.js' {
  const v: unknown
  export default v
}
declare module 'qrcode/lib/core/error-correction-level.js' {
  const v: unknown
  export default v
}
declare module 'qrcode/lib/core/mode.js' {
  const v: unknown
  export default v
}
