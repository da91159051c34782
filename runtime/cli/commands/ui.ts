// `mlp ui`: the read-only web app over the metadata store and the artifacts — runs and their DAGs, lineage,
// data health, evaluations, pushed models and tuning. Configured by flags or environment variables (so it
// can run in a cluster unchanged); binds 127.0.0.1 unless told otherwise; prints one ready line with the
// URL. It reads no file outside --root, answers only Host names it serves (--allowed-hosts) and, with
// --auth-token-file, only requests with the token. SIGTERM / SIGINT stop it.

import type { Command } from 'commander';
import { parseAllowedHosts } from '../../core/allowed-hosts';
import { UserError } from '../../core/errors';
import { DEFAULT_LABELS } from '../../ui/api/model-server-status';
import { redactUrl } from '../../core/redact-url';
import { DEFAULT_ROOT, metadataAddress, readTokenFile } from '../options';

interface UiFlags {
  root: string;
  metadata?: string;
  port: string;
  host: string;
  serverUrl?: string;
  serverLabels: string;
  serverAuthTokenFile?: string;
  allowedHosts?: string;
  authTokenFile?: string;
}

function portOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UserError(`--port ${JSON.stringify(text)}: expected a port number from 0 to 65535`);
  return n;
}

function serverUrlOf(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^https?:\/\/[^/]/i.test(text)) throw new UserError(`--server-url ${JSON.stringify(text)}: expected an http:// or https:// URL of a model server`);
  return text;
}

export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description('web app over the metadata store and artifacts: runs, lineage, data health, evaluations, models, tuning (read-only)')
    .option('--root <dir>', 'pipeline root (folder or gs://) whose embedded metadata store, run logs and artifacts to read; no file outside it is read ($MLP_ROOT)', DEFAULT_ROOT)
    .option('--metadata <address>', 'metadata store: sqlite:PATH or postgres://... ($MLP_METADATA; default: sqlite:<root>/metadata.sqlite)')
    .option('--port <n>', 'HTTP port; 0 picks a free one, printed in the ready line ($MLP_UI_PORT)', process.env.MLP_UI_PORT ?? '8080')
    .option('--host <address>', 'address to listen on; 0.0.0.0 exposes it beyond this machine ($MLP_UI_HOST)', process.env.MLP_UI_HOST ?? '127.0.0.1')
    .option('--allowed-hosts <list>', 'Host header names answered besides IP addresses, localhost and --host, comma-separated: name, .domain (and its subdomains) or * (any); others get 403 (DNS rebinding) ($MLP_UI_ALLOWED_HOSTS)', process.env.MLP_UI_ALLOWED_HOSTS)
    .option('--auth-token-file <file>', 'require the file\'s content as a token on every request: Authorization: Bearer <token>, or open the UI once with ?token=<token> (sets a cookie) ($MLP_UI_AUTH_TOKEN_FILE)', process.env.MLP_UI_AUTH_TOKEN_FILE)
    .option('--server-url <url>', 'model server (mlp serve or TF Serving REST) whose live versions, labels and traffic weights to show ($MLP_SERVER_URL)', process.env.MLP_SERVER_URL)
    .option('--server-auth-token-file <file>', 'bearer token the model server asks for (mlp serve --auth-token-file) ($MLP_SERVER_AUTH_TOKEN_FILE)', process.env.MLP_SERVER_AUTH_TOKEN_FILE)
    .option('--server-labels <list>', 'version labels to ask a plain TF Serving server about, comma-separated; mlp serve reports all of its own ($MLP_SERVER_LABELS)', process.env.MLP_SERVER_LABELS ?? DEFAULT_LABELS.join(','))
    .action(async (flags: UiFlags) => {
      const metadata = metadataAddress(flags);
      const allowedHosts = parseAllowedHosts(flags.allowedHosts);
      const authToken = flags.authTokenFile === undefined ? undefined : readTokenFile('--auth-token-file', flags.authTokenFile);
      // Loaded here, not at the top: the UI's API modules would slow every other mlp command.
      const { startUiServer } = await import('../../ui/server');
      const server = await startUiServer({
        metadata,
        root: flags.root,
        host: flags.host,
        port: portOf(flags.port),
        allowedHosts,
        authToken,
        modelServer: {
          url: serverUrlOf(flags.serverUrl),
          labels: flags.serverLabels.split(',').map((l) => l.trim()).filter(Boolean),
          authToken: flags.serverAuthTokenFile === undefined ? undefined : readTokenFile('--server-auth-token-file', flags.serverAuthTokenFile),
        },
      });
      const note = server.waitingForStore ? ', empty until the first run creates it' : '';
      // The token itself is never printed: the line says where it is.
      const login = authToken === undefined ? '' : `; token required: open ${server.url}/?token=<content of ${flags.authTokenFile}> once`;
      process.stdout.write(`mlp ui: ${server.url} (metadata ${redactUrl(metadata)}${note}${login})\n`);
      await new Promise<void>((resolve, reject) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          server.close().then(resolve, reject);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
