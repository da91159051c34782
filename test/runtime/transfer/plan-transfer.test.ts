// `mlp data plan-transfer`: every rule boundary of the recommendation (60 TB, 1 TB, 10 Mbps, one week, the
// source), the estimate's formula and units, the text and --json output, and bad input as one clear line.

import { spawnSync } from 'child_process';
import { Command } from 'commander';
import { registerDataCommand } from '../../../runtime/cli/commands/data';
import { UserError } from '../../../runtime/core/errors';
import { planTransfer, type TransferPlan, type TransferSource } from '../../../runtime/transfer/plan-transfer';
import { parseBandwidth, parseSize } from '../../../runtime/transfer/units';
import { MLP_BIN, REPO_ROOT } from '../../support/cli';

const plan = (size: string, bandwidth: string, source: TransferSource, efficiency?: number) =>
  planTransfer({ bytes: parseSize(size), bitsPerSecond: parseBandwidth(bandwidth), source, efficiency });

describe('recommendation rules', () => {
  test.each<[string, string, TransferSource, TransferPlan['recommendation'], RegExp]>([
    // size: 60 TB and more → appliance, whatever the link
    ['59.9TB', '10Gbps', 'onprem', 'storage-transfer-service', /at least 1 TB/],
    ['60TB', '10Gbps', 'onprem', 'transfer-appliance', /at least 60 TB/],
    ['60TB', '100Gbps', 'onprem', 'transfer-appliance', /at least 60 TB/],
    // 1 TB and more over ~10 Mbps or slower → appliance
    ['1TB', '10Mbps', 'onprem', 'transfer-appliance', /at least 1 TB and the link \(10 Mbps\) is 10 Mbps or slower/],
    ['1TB', '1.25MB/s', 'onprem', 'transfer-appliance', /10 Mbps or slower/],
    ['1TB', '11Mbps', 'onprem', 'transfer-appliance', /more than a week/],
    // more than a week online → appliance: 5.67 TB over 100 Mbps at 75% takes exactly 7 days
    ['5.67TB', '100Mbps', 'onprem', 'storage-transfer-service', /at least 1 TB.*online: 7d\)/],
    ['5.68TB', '100Mbps', 'onprem', 'transfer-appliance', /would take 7d 0h 17m, more than a week/],
    ['999GB', '10Mbps', 'onprem', 'transfer-appliance', /more than a week/],
    // on-premises 1 TB and more → STS with agents; under 1 TB → parallel upload
    ['1TB', '1Gbps', 'onprem', 'storage-transfer-service', /from on-premises is at least 1 TB/],
    ['999.9GB', '1Gbps', 'onprem', 'parallel-upload', /^999.9 GB from on-premises is under 1 TB and 1 Gbps moves it in 2h 57m/],
    ['500GB', '100Mbps', 'onprem', 'parallel-upload', /under 1 TB/],
    ['10MB', '10Mbps', 'onprem', 'parallel-upload', /under 1 TB/],
    // other clouds and bucket to bucket → STS, at any size
    ['5TB', '1Gbps', 's3', 'storage-transfer-service', /another cloud \(Amazon S3\)/],
    ['100TB', '100Mbps', 'azure', 'storage-transfer-service', /another cloud \(Azure Blob Storage\)/],
    ['2PB', '10Mbps', 'gcs', 'storage-transfer-service', /bucket to bucket/],
    ['1GB', '1Gbps', 's3', 'storage-transfer-service', /managed, server-side/],
  ])('%s over %s from %s → %s', (size, bandwidth, source, recommendation, reason) => {
    const p = plan(size, bandwidth, source);
    expect(p.recommendation).toBe(recommendation);
    expect(p.reason).toMatch(reason);
  });

  test('the week boundary is exact: 7 days stays online, a second more does not', () => {
    const week = plan('5.67TB', '100Mbps', 'onprem');
    expect(week.estimatedSeconds).toBe(7 * 86_400);
    const justOver = planTransfer({ bytes: 5.67e12 + 100, bitsPerSecond: 1e8, source: 'onprem' });
    expect(justOver.recommendation).toBe('transfer-appliance');
  });
});

describe('estimate', () => {
  test('seconds = bytes × 8 / (bits per second × efficiency), decimal and binary units as written', () => {
    expect(plan('1TB', '100Mbps', 'onprem').estimatedSeconds).toBeCloseTo(106_666.67, 1); // ≈ 29.6 h
    expect(plan('1TB', '100Mbps', 'onprem', 1).estimatedSeconds).toBe(80_000);
    expect(plan('1TiB', '100Mbps', 'onprem', 1).estimatedSeconds).toBeCloseTo(87_960.93, 1);
    expect(plan('10GB', '10MB/s', 'onprem', 1).estimatedSeconds).toBe(1000);
    expect(plan('1GiB', '1MiB/s', 'onprem', 1).estimatedSeconds).toBe(1024);
    expect(plan('1TB', '100Mbps', 'onprem').estimated).toBe('1d 5h 37m');
  });

  test.each([
    ['5TB', 5e12],
    ['500GB', 5e11],
    ['1.5TiB', 1.5 * 2 ** 40],
    ['2 pb', 2e15],
    ['42B', 42],
    ['.5kib', 512],
  ])('size %s = %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test.each([
    ['100Mbps', 1e8],
    ['1Gbps', 1e9],
    ['10MB/s', 8e7],
    ['10MBps', 8e7],
    ['1.5 Gbit/s', 1.5e9],
    ['512kbps', 512e3],
    ['1MiB/s', 8 * 2 ** 20],
  ])('bandwidth %s = %d bit/s', (text, bits) => expect(parseBandwidth(text)).toBe(bits));
});

describe('the CLI command', () => {
  async function cli(...args: string[]): Promise<{ stdout: string; error?: Error }> {
    let stdout = '';
    const program = new Command('mlp').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
    registerDataCommand(program, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true } });
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
    for (const c of program.commands[0].commands) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (t) => (stdout += t) });
    const error = await program.parseAsync(['node', 'mlp', 'data', ...args]).then(() => undefined, (e: Error) => e);
    return { stdout, error };
  }

  test('prints the estimate and the recommendation with its reason', async () => {
    const r = await cli('plan-transfer', '--size', '5TB', '--bandwidth', '100Mbps', '--source', 'onprem');
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(
      [
        'data:        5 TB from onprem',
        'link:        100 Mbps at 75% efficiency',
        'estimated:   6d 4h 8m online',
        'recommended: Storage Transfer Service (agent-based, on-premises agent pool)',
        'why:         5 TB from on-premises is at least 1 TB: managed agents give parallelism, retries, scheduling and verification (online: 6d 4h 8m)',
        '',
      ].join('\n'),
    );
  });

  test('--json prints the plan as JSON only', async () => {
    const r = await cli('plan-transfer', '--size', '80TB', '--bandwidth', '1Gbps', '--source', 'onprem', '--efficiency', '0.5', '--json');
    expect(JSON.parse(r.stdout)).toEqual({
      source: 'onprem',
      bytes: 80e12,
      bitsPerSecond: 1e9,
      efficiency: 0.5,
      estimatedSeconds: 1_280_000,
      estimated: '14d 19h 33m',
      recommendation: 'transfer-appliance',
      option: 'Transfer Appliance',
      reason: '80 TB is at least 60 TB: shipping an appliance beats the network (online: 14d 19h 33m)',
    });
  });

  test('bad values are one clear line naming the flag and the value', async () => {
    const base = ['plan-transfer', '--size', '5TB', '--bandwidth', '100Mbps', '--source', 'onprem'];
    const withFlag = (flag: string, value: string) => {
      const args = [...base];
      args[args.indexOf(flag) + 1] = value;
      return cli(...args);
    };
    expect((await withFlag('--size', '5XB')).error).toEqual(new UserError('--size "5XB": expected a number and a unit, e.g. 500GB, 5TB or 1.5TiB'));
    expect((await withFlag('--size', '0TB')).error).toEqual(new UserError('--size "0TB": must be greater than zero'));
    expect((await withFlag('--bandwidth', '100')).error).toEqual(
      new UserError('--bandwidth "100": expected a number and a unit, e.g. 100Mbps, 1Gbps or 10MB/s (b = bits, B = bytes)'),
    );
    expect((await withFlag('--source', 'ftp')).error).toEqual(new UserError('--source "ftp": expected one of onprem, s3, azure, gcs'));
    expect((await cli(...base, '--efficiency', '1.5')).error).toEqual(new UserError('--efficiency "1.5": expected a number in (0, 1]'));
    expect((await cli('plan-transfer', '--size', '5TB', '--bandwidth', '1Gbps')).error?.message).toBe("error: required option '--source <where>' not specified");
  });

  test('as a process: help exits 0; a bad value exits non-zero with one line on stderr', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [MLP_BIN, 'data', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
    const help = run('plan-transfer', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: mlp data plan-transfer [options]');
    const bad = run('plan-transfer', '--size', '5TB', '--bandwidth', 'fast', '--source', 'onprem');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('mlp: error: --bandwidth "fast": expected a number and a unit, e.g. 100Mbps, 1Gbps or 10MB/s (b = bits, B = bytes)\n');
  });
});
