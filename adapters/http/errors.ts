import { CarrierError } from '../../src/transport.js'

/** The server answered with a status that is not 2xx; `status` and the start of its body say why. */
export class HttpStatusError extends CarrierError {
  constructor(
    readonly uri: string,
    readonly status: number,
    readonly body: string,
  ) {
    super('ERR_HTTP_STATUS', `${uri} answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`)
  }
}

/** A WebSocket endpoint could not be opened, or closed under a send. */
export class WebSocketError extends CarrierError {
  constructor(
    message: string,
    readonly closeCode?: number,
  ) {
    super('ERR_WEBSOCKET', message)
  }
}
