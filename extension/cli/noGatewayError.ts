/** The bridge cannot reach a gateway; the message is written for the human reading stderr or the tool result. */
export class NoGatewayError extends Error {
  override readonly name = 'NoGatewayError';
}
