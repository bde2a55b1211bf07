import { transformAsync } from '@babel/core'
import { build } from 'esbuild'

const root = new URL('../..', import.meta.url).pathname

export const HERMES = new URL('../../node_modules/hermes-engine-cli/linux64-bin/hermes', import.meta.url).pathname

/**
 * Builds an app entry the way a React Native app's code reaches Hermes: one bundle resolved with
 * React Native's resolver fields and conditions (react-native, browser, module, main), then lowered
 * by React Native's own Babel preset (profile `default`, what an app on an engine without
 * class/async support gets), whose helpers (@babel/runtime) are then linked in as Metro would.
 * Three passes because esbuild alone lowers no `class` below ES2015 and Babel alone does not bundle.
 * `input` is placed before the app as a global, HERMES_INPUT.
 */
export async function buildForHermes(entry: string, input: unknown): Promise<string> {
  const bundled = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'esnext',
    mainFields: ['react-native', 'browser', 'module', 'main'],
    conditions: ['react-native', 'browser', 'import'],
    logLevel: 'silent',
  })
  const code = bundled.outputFiles[0]?.text ?? ''
  const lowered = await transformAsync(code, {
    babelrc: false,
    configFile: false,
    compact: false,
    sourceType: 'script',
    presets: [['@react-native/babel-preset', { unstable_transformProfile: 'default', disableImportExportTransform: true }]],
  })
  // the preset calls its helpers through require('@babel/runtime/…'), which Metro resolves: bundle them
  const linked = await build({
    stdin: { contents: lowered?.code ?? '', resolveDir: root, sourcefile: 'app.lowered.js' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'esnext',
    mainFields: ['react-native', 'browser', 'main'],
    logLevel: 'silent',
  })
  return `var HERMES_INPUT = ${JSON.stringify(input)};\n${linked.outputFiles[0]?.text ?? ''}`
}
