// The error a model server request ends in: a UserError (the caller can fix it, or retry) that carries the
// HTTP status it is answered with. Both APIs answer it as {"error": message}.

import { UserError } from '../core/errors';

export class RequestError extends UserError {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export const badRequest = (message: string): RequestError => new RequestError(400, message);
export const notFound = (message: string): RequestError => new RequestError(404, message);
