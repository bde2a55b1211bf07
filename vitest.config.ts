import { defineConfig } from 'vitest/config'

const source = (p: string) => new URL(p, import.meta.url).pathname

export default defineConfig({
  // examples/react-native imports the package by name, as an app does: the source, as its tsconfig maps it
  resolve: {
    alias: [
      { find: /^didcomm-carrier$/, replacement: source('./src/index.ts') },
      { find: /^didcomm-carrier\/ble\/web$/, replacement: source('./adapters/ble/web.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'hardware-tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/support/setup.ts'],
  },
})
