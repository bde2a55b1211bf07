import { afterAll } from 'vitest'
import { removeTempDirs } from './temp.js'

// every test file: the temp dirs it made (tempDir) go when it is done
afterAll(removeTempDirs)
