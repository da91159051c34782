// `mlp data`: getting data onto Cloud Storage. `upload` copies a local file, directory or glob to a gs://
// prefix (parallel, resumable, checksum-verified, skipping identical objects); `plan-transfer` estimates how
// long a transfer takes and recommends parallel upload, Storage Transfer Service or Transfer Appliance.

import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { wholeNumber } from '../options';
import { formatPlan, parseSource, planTransfer, SOURCES } from '../../transfer/plan-transfer';
import { parseBandwidth, parseSize } from '../../transfer/units';

/** Where the commands write; tests pass their own streams. */
export interface DataCommandIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

interface UploadFlags {
  concurrency: string;
  retries: string;
  resumableThreshold?: string;
  json?: boolean;
}

interface PlanFlags {
  size: string;
  bandwidth: string;
  source: string;
  efficiency?: string;
  json?: boolean;
}

export function registerDataCommand(program: Command, io: DataCommandIO = { stdout: process.stdout, stderr: process.stderr }): void {
  const data = program.command('data').description('move data onto Cloud Storage: upload files, plan large transfers');

  data
    .command('upload')
    .description('upload a local file, directory or glob to a gs:// prefix: parallel, resumable, checksum-verified; identical objects are skipped')
    .argument('<source>', 'a local file, a directory (its files keep their relative paths) or a quoted glob such as "data/**/*.csv"')
    .argument('<destination>', 'gs://bucket/prefix')
    .option('--concurrency <n>', 'files uploaded at once', '8')
    .option('--retries <n>', 'extra attempts for a file after a transient error or checksum mismatch', '2')
    .option('--resumable-threshold <size>', 'files larger than this use resumable uploads (e.g. 8MiB)')
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)')
    .addHelpText('after', '\nExits non-zero, listing each file that failed, when any file could not be uploaded.')
    .action(async (source: string, destination: string, flags: UploadFlags) => {
      const concurrency = wholeNumber('--concurrency', flags.concurrency, 1);
      const retries = wholeNumber('--retries', flags.retries, 0);
      const resumableThreshold = flags.resumableThreshold === undefined ? undefined : parseSize(flags.resumableThreshold, '--resumable-threshold');
      // Loaded on use: the GCS client takes ~0.5 s to load, which other commands should not pay.
      const { planUpload } = await import('../../transfer/upload-plan');
      const { uploadPlan } = await import('../../transfer/uploader');
      const { UploadProgress, formatSummary } = await import('../../transfer/progress');
      const plan = await planUpload(source, destination);
      const progress = new UploadProgress({ out: io.stderr, live: !!io.stderr.isTTY });
      const summary = await uploadPlan(plan, {
        concurrency,
        attempts: retries + 1,
        gcs: resumableThreshold === undefined ? {} : { resumableThreshold },
        listener: progress,
      }).finally(() => progress.stop());
      io.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      if (summary.failed > 0) {
        throw new UserError(`${summary.failed} of ${summary.files} files failed to upload: ${summary.failures.map((f) => f.file).join(', ')}`);
      }
    });

  data
    .command('plan-transfer')
    .description('estimate a transfer to Cloud Storage and recommend parallel upload, Storage Transfer Service or Transfer Appliance')
    .requiredOption('--size <size>', 'amount of data, e.g. 500GB, 5TB, 1.5TiB (KB/MB/GB/TB/PB = powers of 1000, KiB/MiB/... = powers of 1024)')
    .requiredOption('--bandwidth <rate>', 'usable link speed, e.g. 100Mbps, 1Gbps (bits) or 10MB/s (bytes)')
    .requiredOption('--source <where>', `where the data is: ${SOURCES.join(', ')} (gcs = another bucket)`)
    .option('--efficiency <fraction>', 'share of the link speed a long transfer sustains', '0.75')
    .option('--json', 'print the plan as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Estimate: size × 8 / (bandwidth × efficiency).',
        'Rules: on-premises data of 60 TB or more, of 1 TB or more over 10 Mbps or slower, or taking more than a week',
        'online → Transfer Appliance; s3, azure, gcs → Storage Transfer Service; on-premises 1 TB or more →',
        'Storage Transfer Service with agents; on-premises under 1 TB → parallel upload (mlp data upload).',
      ].join('\n'),
    )
    .action((flags: PlanFlags) => {
      const efficiency = Number(flags.efficiency);
      if (!(efficiency > 0 && efficiency <= 1)) throw new UserError(`--efficiency ${JSON.stringify(flags.efficiency)}: expected a number in (0, 1]`);
      const plan = planTransfer({
        bytes: parseSize(flags.size, '--size'),
        bitsPerSecond: parseBandwidth(flags.bandwidth, '--bandwidth'),
        source: parseSource(flags.source),
        efficiency,
      });
      io.stdout.write(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    });
}

