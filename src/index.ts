export * from './did/document.js'
export * from './didcomm/index.js'
export * from './transport.js'
export * from './wire/index.js'
