// The bench's HTTP load generator, run in a worker thread so that the server under test and the
// client each have a core (as autocannon or wrk in another process would). Plain JavaScript: a
// worker does not inherit the TypeScript loader. It posts every body once over `concurrency`
// keep-alive sockets (node:http, the lightest client Node has) and answers with msg/s. With `rate`,
// body i goes out at i / rate seconds (an offered rate, not as fast as answered); with `times`, it
// answers with when each 202 came (performance.timeOrigin + now, ms: comparable across processes).
import { Agent, request } from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'

/** @param {{ url: string, bodies: string[], contentType: string, concurrency: number, expect: number, rate?: number, times?: boolean }} o */
async function load(o) {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency })
  const url = new URL(o.url)
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': o.contentType, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode === o.expect ? resolve() : reject(new Error(`${o.url} answered ${res.statusCode}`)),
          )
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  let next = 0
  const times = o.times ? new Array(o.bodies.length).fill(Number.NaN) : undefined
  const start = performance.now()
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.bodies.length) {
        const i = next++
        const body = o.bodies[i]
        if (o.rate) {
          const due = start + (i * 1000) / o.rate - performance.now()
          if (due > 0) await new Promise((r) => setTimeout(r, due))
        }
        // a keep-alive socket the server closed while idle resets: posted again, on a new socket
        await post(body).catch(() => post(body))
        if (times) times[i] = performance.timeOrigin + performance.now()
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  agent.destroy()
  return { rate: o.bodies.length / seconds, times }
}

load(workerData).then(
  ({ rate, times }) => parentPort.postMessage({ rate, times }),
  (err) => parentPort.postMessage({ error: String(err?.message ?? err) }),
)
