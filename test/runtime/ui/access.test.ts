// Who mlp ui answers. The Host check against DNS rebinding: a page on attacker.example whose name resolves
// to the UI's address sends `Host: attacker.example` and gets a 403 with a generic message; IP literals,
// localhost names, the bound address and --allowed-hosts (names, .domains, *) are answered. The token
// (--auth-token-file): every page, asset and API call needs it — as a bearer header, or the HttpOnly cookie
// that `?token=` sets once with a redirect to the same URL without it; and the page itself works that way
// in Chromium.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HOST_REFUSED_MESSAGE } from '../../../runtime/core/allowed-hosts';
import { openMetadataStore } from '../../../runtime/metadata';
import { openBrowser } from '../../support/browser';
import { getWithHost } from '../../support/host-request';
import { generateStore } from './generated-store';
import { startUi, type Ui, type UiOptions } from './helpers';

const TOKEN = 'ui-token-4f1b9c';

let dir: string;
let metadata: string;
let runIds: string[];
const uis: Ui[] = [];

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-ui-access-'));
  metadata = `sqlite:${path.join(dir, 'metadata.sqlite')}`;
  const store = await openMetadataStore(metadata);
  try {
    ({ runIds } = await generateStore(store, 2, dir));
  } finally {
    await store.close();
  }
});

afterAll(async () => {
  for (const ui of uis) await ui.server.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function ui(opts: UiOptions = {}): Promise<Ui> {
  const started = await startUi(metadata, {}, opts);
  uis.push(started);
  return started;
}

/** A GET with the Host and Cookie headers given. */
const get = (server: Ui, urlPath: string, headers: Record<string, string> = {}) => getWithHost(server.server.port, urlPath, headers);

describe('the Host header', () => {
  test('a name the UI does not serve is refused with a generic 403, before anything else', async () => {
    const server = await ui();
    for (const host of ['attacker.example', `attacker.example:${server.server.port}`, 'localhost.attacker.example', '127.0.0.1.nip.io', '[::1', '']) {
      for (const urlPath of ['/', '/api/runs', '/static/app.js', '/no-such-page']) {
        const answer = await get(server, urlPath, { host });
        expect({ host, urlPath, status: answer.status, body: JSON.parse(answer.body) }).toEqual({ host, urlPath, status: 403, body: { error: HOST_REFUSED_MESSAGE } });
      }
    }
  });

  test('IP literals, localhost names and the bound address are answered, with or without a port', async () => {
    const server = await ui();
    const { port } = server.server;
    for (const host of ['127.0.0.1', `127.0.0.1:${port}`, 'localhost', `LOCALHOST:${port}`, 'localhost.', 'app.localhost', '[::1]', `[::1]:${port}`, `10.8.0.12:${port}`, '[fd00::1]:80']) {
      expect({ host, status: (await get(server, '/api/runs', { host })).status }).toEqual({ host, status: 200 });
    }
  });

  test('--allowed-hosts adds names and whole domains; * answers any Host', async () => {
    const listed = await ui({ allowedHosts: ['ui.example.com', '.corp.example'] });
    for (const host of ['ui.example.com', 'ui.example.com:443', 'corp.example', 'mlp.corp.example', 'a.b.corp.example']) {
      expect({ host, status: (await get(listed, '/api/runs', { host })).status }).toEqual({ host, status: 200 });
    }
    for (const host of ['example.com', 'other.example.com', 'evilcorp.example', 'corp.example.attacker.example']) {
      expect({ host, status: (await get(listed, '/api/runs', { host })).status }).toEqual({ host, status: 403 });
    }
    const any = await ui({ allowedHosts: ['*'] });
    expect((await get(any, '/api/runs', { host: 'attacker.example' })).status).toBe(200);
  });
});

describe('the token', () => {
  let server: Ui;
  beforeAll(async () => {
    server = await ui({ authToken: TOKEN });
  });

  test('without it, every page, asset and API call is a 401 that does not say the token', async () => {
    for (const urlPath of ['/', '/static/app.js', '/api/runs', '/no-such-page', `/api/runs?token=wrong-${TOKEN}`]) {
      const answer = await get(server, urlPath);
      expect({ urlPath, status: answer.status }).toEqual({ urlPath, status: 401 });
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(answer.body).not.toContain(TOKEN);
    }
    expect((await get(server, '/api/runs', { authorization: `Bearer wrong-${TOKEN}` })).status).toBe(401);
    expect((await get(server, '/api/runs', { cookie: `mlp-ui-token-${server.server.port}=wrong` })).status).toBe(401);
    // The Host check comes first: a refused Host learns nothing about the token either.
    expect((await get(server, '/api/runs', { host: 'attacker.example', authorization: `Bearer ${TOKEN}` })).status).toBe(403);
  });

  test('a bearer header is enough for scripts', async () => {
    const answer = await get(server, '/api/runs', { authorization: `Bearer ${TOKEN}` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).items).toHaveLength(2);
  });

  test('?token= once redirects to the same URL without it and sets an HttpOnly cookie for this port, which then lets requests in', async () => {
    const { port } = server.server;
    const login = await get(server, `/api/runs?limit=1&token=${TOKEN}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/api/runs?limit=1');
    expect(login.headers['set-cookie']).toEqual([`mlp-ui-token-${port}=${TOKEN}; Path=/; HttpOnly; SameSite=Lax`]);
    const cookie = login.headers['set-cookie']![0].split(';')[0];
    const answer = await get(server, '/api/runs?limit=1', { cookie: `other=1; ${cookie}` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).items).toHaveLength(1);
    // Another UI on this host (another port) does not take this UI's cookie.
    const other = await ui({ authToken: 'another-token' });
    expect((await get(other, '/api/runs', { cookie })).status).toBe(401);
  });

  test('in Chromium: opening the URL with ?token= once shows the runs, and the page never sees the token', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.server.url}/?token=${TOKEN}#/runs`);
      await page.locator('main table tbody tr').first().waitFor();
      expect(await page.locator('main table tbody tr td:first-child').allInnerTexts()).toEqual([...runIds].reverse());
      expect(page.url()).toBe(`${server.server.url}/#/runs`);
      // HttpOnly: the page's script cannot read the cookie.
      expect(await page.evaluate('document.cookie')).toBe('');
      // A later visit without ?token= is let in by the cookie.
      await page.goto(`${server.server.url}/#/runs/${encodeURIComponent(runIds[0])}`);
      await page.locator('main', { hasText: runIds[0] }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
