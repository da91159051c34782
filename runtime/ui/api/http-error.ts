// The errors an API handler answers with on purpose: a status and a message the page shows as is (404 for
// an id or name that matches nothing, 400 for a malformed parameter). Anything else thrown is a 500.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (message: string): HttpError => new HttpError(404, message);
export const badRequest = (message: string): HttpError => new HttpError(400, message);
