// Module resolution hooks registered by hide-packages.mjs.
let hidden = []

export function initialize(data) {
  hidden = data.hidden
}

export async function resolve(specifier, context, next) {
  if (hidden.includes(specifier)) {
    const err = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL} (hidden by the test)`)
    err.code = 'ERR_MODULE_NOT_FOUND'
    throw err
  }
  return next(specifier, context)
}
