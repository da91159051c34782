// The one place a URL's password is masked before the URL is printed, logged, served or put in an error: the
// metadata store address above all (`postgres://user:password@host/db`), wherever the CLI, the UI, the run log
// or an error message shows it. Compilers use urlHasPassword to refuse writing one into a pipeline.

const MASK = '***';

/**
 * The URL with its password (in the user info or a `password=` query parameter, as pg also accepts) replaced
 * by `***`. Anything that is not a `scheme://` URL (e.g. `sqlite:PATH`) is returned unchanged.
 */
export function redactUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  let out = url;
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = MASK;
      out = parsed.toString();
    }
  } catch {
    // Not parseable as a URL: mask everything between the user name and the last '@', erring on the side of hiding.
    out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):.*@/i, `$1:${MASK}@`);
  }
  return out.replace(/([?&]password=)[^&#]*/gi, `$1${MASK}`);
}

/** Whether the URL carries a password that redactUrl would mask. */
export function urlHasPassword(url: string): boolean {
  return redactUrl(url) !== url;
}
