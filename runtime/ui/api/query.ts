// Query-string and path parameters of the API: pages (limit/offset, bounded so no request reads a whole
// large store) and numeric ids, each refused with a message naming the parameter.

import { badRequest, notFound } from './http-error';

const MAX_PAGE = 500;

export interface Page {
  limit: number;
  offset: number;
}

/** A page of a list; `next` is the offset of the following page when there is one. */
export interface PageOf<T> extends Page {
  items: T[];
  next?: number;
  /** Every matching item, when counting is cheap. */
  total?: number;
}

/** A whole-number parameter within [min, max], or the fallback when absent. */
export function numberParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
  return n;
}

export function pageOf(q: URLSearchParams, defaultLimit = 50): Page {
  return { limit: numberParam(q, 'limit', defaultLimit, 1, MAX_PAGE), offset: numberParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER) };
}

/** Rows fetched with limit + 1 become a page that knows whether another follows. */
export function pageFrom<T>(rows: T[], page: Page, total?: number): PageOf<T> {
  const more = rows.length > page.limit;
  return {
    items: more ? rows.slice(0, page.limit) : rows,
    limit: page.limit,
    offset: page.offset,
    ...(more ? { next: page.offset + page.limit } : {}),
    ...(total !== undefined ? { total } : {}),
  };
}

/** A numeric id from the URL; anything else names no record, so it is a 404 like an unknown id. */
export function idOf(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw notFound(`no ${what} with id ${JSON.stringify(text)}`);
  return n;
}
