// node --import ./test/support/hide-packages.mjs … with CARRIER_HIDE_PACKAGES=nfc-pcsc,… : those
// packages import as if they were not installed (ERR_MODULE_NOT_FOUND), as on a machine where npm
// skipped them — how the tests check that a command without an optional stack says what to install.
import { register } from 'node:module'

register('./hide-packages-hooks.mjs', import.meta.url, {
  data: { hidden: (process.env.CARRIER_HIDE_PACKAGES ?? '').split(',').filter(Boolean) },
})
