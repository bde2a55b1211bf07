export * from './transport.js'
export * from './wire/index.js'
