export { createDecryptPool, type DecryptPool, type DecryptPoolOptions } from './decrypt-pool.js'
