import { describe, expect, it } from 'vitest'
import { jsonLines, runTsx } from '../support/run.js'

describe('stores without their optional driver', () => {
  it('say in one line which package to install', async () => {
    const r = await runTsx(['test/stores/fixtures/open-without-drivers.ts'])
    expect(r.stderr).toBe('')
    expect(jsonLines(r.stdout)).toEqual([
      {
        uri: 'sqlite:/tmp/carrier-never-created.db',
        code: 'ERR_MISSING_DEPENDENCY',
        message: 'The SQLite message store needs the package "better-sqlite3": npm install better-sqlite3',
      },
      {
        uri: 'postgresql://postgres@127.0.0.1:1/postgres',
        code: 'ERR_MISSING_DEPENDENCY',
        message: 'The PostgreSQL message store needs the package "pg": npm install pg',
      },
    ])
  })
})
