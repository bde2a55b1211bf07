import { MemoryMessageStore } from '../../src/mediator/memory-store.js'
import { storeConformanceSuite } from '../../src/testing/store-conformance.js'

storeConformanceSuite('MemoryMessageStore', async () => new MemoryMessageStore())
