import { copyFile, mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The folder holding the pages' sources (this file's folder, in the source tree). */
const here = dirname(fileURLToPath(import.meta.url))

/** The package root: web sources live at adapters/qr/web under it, built pages at dist/web. */
export const packageRoot = resolve(here, here.includes(`${join('dist', 'adapters')}`) ? '../../../..' : '../../..')
export const defaultWebDir = join(packageRoot, 'dist', 'web')

const STATIC = ['index.html', 'sender.html', 'scanner.html', 'wallet.html', 'style.css', 'wallet.css']

/**
 * Bundles the sender page, the scanner page, the wallet page and the decoder Worker with esbuild (a development
 * dependency: run at build time, never when serving) and copies the HTML, the CSS and zxing-wasm's
 * .wasm beside them.
 */
export async function buildWebPages(outDir = defaultWebDir): Promise<string> {
  const { build } = await import('esbuild')
  const src = join(packageRoot, 'adapters', 'qr', 'web')
  await mkdir(outDir, { recursive: true })
  await build({
    entryPoints: ['sender.ts', 'scanner.ts', 'wallet.ts', 'decode-worker.ts'].map((f) => join(src, f)),
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  })
  for (const f of STATIC) await copyFile(join(src, f), join(outDir, f))
  const wasm = createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm')
  await copyFile(wasm, join(outDir, 'zxing_reader.wasm'))
  return outDir
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWebPages(process.argv[2] ? resolve(process.argv[2]) : undefined)
  console.log(`web pages built in ${out}`)
}
