// A source checkout only (tsx, vitest): a worker thread does not inherit the TypeScript loader, so
// it registers tsx (a dev dependency) and then loads the worker's TypeScript module.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
