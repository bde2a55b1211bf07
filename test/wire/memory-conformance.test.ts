import { conformanceSuite } from '../../src/testing/conformance.js'
import { memoryLinkPair } from '../../src/testing/index.js'

conformanceSuite('memory link, MTU 1024', async () => memoryLinkPair({ mtu: 1024, seed: 7 }))
conformanceSuite(
  'memory link, BLE default MTU 20, lossy',
  async () => memoryLinkPair({ mtu: 20, loss: 0.05, reorder: 0.05, seed: 8 }),
  {
    largeMessageBytes: 256 * 1024,
    messagesInARow: 200,
  },
)
conformanceSuite('memory link, simplex (fountain)', async () => memoryLinkPair({ mtu: 800, duplex: false, loss: 0.2, seed: 9 }))
