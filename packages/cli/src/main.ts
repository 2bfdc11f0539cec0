import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { ConfigError, checkOneOf } from '@tms/data';
import { NODE_BACKENDS, useNodeBackend } from '@tms/backend-node';
import { createWebGPUEngine } from '@tms/engine-webgpu';
import { describeField } from '@tms/data';
import { CLAIMS_VERSION, DivergenceError, evaluateClaims, experiments, getExperiment, resolveConfig, spread, type ClaimResult, type Experiment } from '@tms/experiments';
import { intOption, parseOverrides } from './config.js';
import { ProgressBar } from './progress.js';
import { NonFiniteResultError, cliVersion, mergeShards, nodeEngines, runExperiment, runSeeds, runShard, stagingFolder } from './runner.js';
import { MissingUnitsError, ShardLockedError, parseShard, unitStore } from './shards.js';
import { SubmitError, clusterCommand } from './cluster.js';
import { FolderLockedError } from './io.js';
import { CheckpointError } from './checkpoint.js';

const USAGE = `tms — Toy Models of Superposition

Usage:
  tms list                          list the experiments
  tms --version                     the version of @tms/cli
  tms help <experiment>             show an experiment's config fields and variants
  tms run <experiment> [options] [--<field> <value> ...]
  tms check <dir> [--by-claim]      check the paper's claims on the results in <dir>
                                    (a run's --out, a folder of them, or of --seeds
                                    folders); exit 1 if one fails; --by-claim: one line
                                    per claim over every result (how many hold, median, range)
  tms run <experiment> --shard K/N  train shard K (0 to N-1) of a run split N ways
  tms merge <out> [--wait <s>]      write the results of a sharded run (exit 4 while
                                    units are missing; --wait polls for them)
  tms slurm <experiment> --shards N [run options] [--partition P --time T
            --cpus C --gpus G --account A --dry-run --tms <command>]
                                    submit a Slurm job array (one task per shard)
                                    and a merge job that runs after it
  tms k8s <experiment> --shards N --image I --claim PVC [run options]
          [--mount /data --cpus C --gpus G --namespace NS --name J]
                                    print a Kubernetes Indexed Job and its merge Job

Run options:
  --out <dir>         output folder (default results/<experiment>)
  --variant <name>    apply a named variant first (e.g. quick, paper)
  --config <file>     JSON file with config fields
  --resume            reuse finished parts of an interrupted run into --out
  --restart           start over, discarding them (the default without --resume)
  --max-memory <size> memory budget, e.g. 8GB or 512MiB (default: 3/4 of free
                      memory); configs estimated to need more exit 2
  --backend <name>    auto (default), ${NODE_BACKENDS.join(', ')}
  --workers <n>       worker threads for linear/ReLU-output models on cpu/wasm
                      (default: all cores; results are identical for any n)
  --seeds <k>         train k replicates (seeds seed, seed+1, …) into <out>/seed-<s>/
                      and write <out>/seeds.json (each headline number per seed
                      with min / median / max, each claim's pass count) and seeds.svg;
                      the seeds train at once, each training call of all of
                      them as one batch (the same models as one by one)
  --quiet             no progress output
  --<field> <value>   set a config field, e.g. --steps 2000 --sparsities 0,0.9,0.99

A run builds its files in <out>.partial and moves them into place as <out>
when all are written, so <out> always holds one whole run.

A sharded run keeps each finished unit in <out>/.units; shards may run at
once on machines sharing the folder, and a shard run again reuses its units.

Exit codes: 0 success, 1 run failed, 2 bad usage, config, memory estimate or
checkpoint (nothing written), 3 training diverged, 4 merge: units missing,
130/143 interrupted by SIGINT/SIGTERM (finished parts kept for --resume).`;

/** Streams the CLI writes to (replaceable in tests). */
export interface CliIO {
  /** Writes a line of output (stdout by default). */
  out: (s: string) => void;
  /** Writes a line of errors and notices (stderr by default). */
  err: (s: string) => void;
  /** Progress output stream. Default process.stderr. */
  progressStream?: NodeJS.WriteStream;
}

const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
};

/**
 * Entry point of the `tms` command. Returns the exit code instead of exiting,
 * so it can be called from code and tests.
 */
export async function main(argv: string[], io: CliIO = defaultIO, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        if (rest[0]) return help(rest[0], io);
        io.out(USAGE);
        return 0;
      case '--version':
      case '-v':
      case 'version':
        io.out(`tms ${await cliVersion()}`);
        return 0;
      case 'list':
        for (const e of Object.values(experiments)) io.out(`${e.name.padEnd(12)} ${e.title}`);
        return 0;
      case 'run':
        return await run(rest, io, signal);
      case 'check':
        return await check(rest, io);
      case 'merge':
        return await merge(rest, io, signal);
      case 'slurm':
      case 'k8s':
      {
        const a = await parseRunArgs(command, rest, CLUSTER_FLAGS);
        if (a.resume || a.restart) throw new ConfigError(a.resume ? 'resume' : 'restart', `not with tms ${command} (its shards always reuse the units saved in <out>/.units)`, true);
        return await clusterCommand(command, a, io);
      }
      default:
        io.err(`tms: unknown command "${command}"; allowed: run, merge, slurm, k8s, check, list, help, --version\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof FolderLockedError || e instanceof ShardLockedError || e instanceof CheckpointError) {
      io.err(`tms: ${e.message}`);
      return 2;
    }
    if (e instanceof DivergenceError || e instanceof NonFiniteResultError) {
      io.err(`tms: ${e.message}`);
      return 3;
    }
    if (e instanceof SubmitError) {
      io.err(`tms: ${e.message}`);
      return 1;
    }
    if (e instanceof MissingUnitsError) {
      io.err(`tms: ${e.message}`);
      return 4;
    }
    io.err(`tms: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

class UsageError extends Error {}

/**
 * The results.json files of a run folder, or of the run folders inside it,
 * or one level further (a folder of `--seeds` folders: <dir>/<name>/seed-<s>/).
 */
async function resultFiles(dir: string): Promise<string[]> {
  const own = join(dir, 'results.json');
  if (existsSync(own)) return [own];
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch (e) {
    throw new ConfigError('dir', 'a results folder (a run\'s --out, or a folder of them)', `${dir} (${(e as Error).message})`);
  }
  const files: string[] = [];
  for (const e of entries) {
    const sub = join(dir, e);
    if (existsSync(join(sub, 'results.json'))) files.push(join(sub, 'results.json'));
    else if (existsSync(join(sub, 'seeds.json'))) {
      for (const f of (await readdir(sub)).sort()) if (existsSync(join(sub, f, 'results.json'))) files.push(join(sub, f, 'results.json'));
    }
  }
  return files;
}

const formatValue = (v: number) => (Number.isInteger(v) ? String(v) : Number.isNaN(v) ? 'missing' : v.toPrecision(3));

/** `tms check <dir> [--by-claim]`: the paper's claims (CLAIMS) on every results.json found; exit 1 when one fails. */
async function check(args: string[], io: CliIO): Promise<number> {
  const byClaim = args.includes('--by-claim');
  const rest = args.filter((a) => a !== '--by-claim');
  if (rest.length !== 1 || rest[0].startsWith('--')) throw new UsageError("check needs one results folder: tms check <dir> [--by-claim] (a run's --out, or a folder of them)");
  const files = await resultFiles(rest[0]);
  if (!files.length) throw new ConfigError('dir', 'a folder holding results.json, or folders that do', rest[0]);
  io.out(`tms check: claims v${CLAIMS_VERSION} on ${files.length} result${files.length > 1 ? 's' : ''}`);
  const line = (status: string, r: ClaimResult, value: string, extra = '') =>
    `${status}  ${r.id.padEnd(38)} ${value.padStart(7)}  (${r.expected})  ${extra}${r.statement}${r.section ? ` [${r.section}]` : ''}`;
  const all: ClaimResult[][] = [];
  for (const file of files) {
    let rows: ClaimResult[];
    try {
      const results = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      const exp = getExperiment(String(results.experiment));
      if (!exp?.headline) throw new Error(`unknown experiment ${JSON.stringify(results.experiment)}`);
      rows = evaluateClaims(exp.name, exp.headline(results), (results.config ?? {}) as Record<string, unknown>);
    } catch (e) {
      rows = [{ pass: false, skipped: false, id: file, experiment: '', value: NaN, expected: 'a results.json written by tms run', statement: `unreadable: ${(e as Error).message}`, section: '' }];
    }
    all.push(rows);
  }
  if (!byClaim) {
    let passed = 0;
    let total = 0;
    for (const r of all.flat()) {
      if (!r.skipped) total++;
      if (r.pass) passed++;
      io.out(line(r.skipped ? 'SKIP' : r.pass ? 'PASS' : 'FAIL', r, formatValue(r.value)));
    }
    io.out(`${passed} of ${total} claims hold`);
    return passed === total ? 0 : 1;
  }
  // one line per claim: on how many results it holds (of those it applies to), the median value and the range
  const groups = new Map<string, ClaimResult[]>();
  for (const r of all.flat()) groups.set(r.id, [...(groups.get(r.id) ?? []), r]);
  let everywhere = 0;
  let applied = 0;
  for (const rows of groups.values()) {
    const live = rows.filter((r) => !r.skipped);
    if (!live.length) {
      io.out(line('SKIP', rows[0], 'missing', `on none of ${rows.length}; `));
      continue;
    }
    applied++;
    const held = live.filter((r) => r.pass).length;
    if (held === live.length) everywhere++;
    const values = live.map((r) => r.value).filter((v) => !Number.isNaN(v));
    const { median, min, max } = values.length ? spread(values) : { median: NaN, min: NaN, max: NaN };
    const range = min !== max ? `, ${formatValue(min)}–${formatValue(max)}` : '';
    io.out(line(held === live.length ? 'PASS' : 'FAIL', live[0], formatValue(median), `${held} of ${live.length}${range}; `));
  }
  io.out(`${everywhere} of ${applied} claims hold on every result`);
  return everywhere === applied ? 0 : 1;
}

function help(name: string, io: CliIO): number {
  const exp = getExperiment(name);
  if (!exp) throw new ConfigError('experiment', `one of ${Object.keys(experiments).join(', ')}`, name);
  io.out(`${exp.name}: ${exp.title}\nPaper: ${exp.paperSection}\n\nFields (default):`);
  for (const [field, spec] of Object.entries(exp.schema)) {
    io.out(`  --${field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}  ${spec.doc}; ${describeField(spec)} (${JSON.stringify((exp.defaults as Record<string, unknown>)[field])})`);
  }
  io.out(`\nVariants: ${Object.entries(exp.variants).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join('; ')}`);
  return 0;
}

/** The options `tms run`, `tms slurm` and `tms k8s` share, parsed and checked. */
interface RunArgs {
  exp: Experiment<object>;
  out: string;
  variant?: string;
  /** Config fields from --config and --<field> flags (validated). */
  input: Record<string, unknown>;
  resume: boolean;
  restart: boolean;
  maxMemory?: number;
  /** The --max-memory text as given (passed on to cluster jobs). */
  maxMemoryText?: string;
  quiet: boolean;
  backend: string;
  workers?: number;
  /** The values of the command's own flags (e.g. --shard, --partition), by name. */
  extra: Record<string, string | true>;
}

/**
 * Parse `<experiment> [options] [--<field> <value> ...]`. `extra` names the
 * command's own flags: `value` flags take a value, `switch` flags none.
 * Everything is validated before anything is selected or written.
 */
async function parseRunArgs(command: string, args: string[], extra: Record<string, 'value' | 'switch'> = {}): Promise<RunArgs> {
  const name = args[0];
  if (!name || name.startsWith('--')) throw new UsageError(`${command} needs an experiment name: ${Object.keys(experiments).join(', ')}`);
  const exp = getExperiment(name);
  if (!exp) throw new ConfigError('experiment', `one of ${Object.keys(experiments).join(', ')}`, name);
  const r: RunArgs = { exp, out: `results/${name}`, input: {}, resume: false, restart: false, quiet: false, backend: 'auto', extra: {} };
  let configFile: string | undefined;
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"; options start with --`);
    const [flag, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (seen.has(flag)) throw new UsageError(`--${flag} is given twice; give each option once`);
    seen.add(flag);
    const takeValue = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      // `--out --quiet` must not write into a folder called --quiet
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${flag} needs a value`);
      return v;
    };
    // switches: --resume, --resume=true or --resume=false
    const takeSwitch = () => {
      if (inline === undefined || inline === 'true') return true;
      if (inline === 'false') return false;
      throw new ConfigError(flag, 'no value, "true" or "false"', inline);
    };
    if (extra[flag] === 'value') {
      r.extra[flag] = takeValue();
      continue;
    }
    if (extra[flag] === 'switch') {
      if (takeSwitch()) r.extra[flag] = true;
      continue;
    }
    switch (flag) {
      case 'resume':
        r.resume = takeSwitch();
        break;
      case 'restart':
        r.restart = takeSwitch();
        break;
      case 'max-memory':
        r.maxMemoryText = takeValue();
        r.maxMemory = parseSize(r.maxMemoryText, 'maxMemory');
        break;
      case 'quiet':
        r.quiet = takeSwitch();
        break;
      case 'out':
        r.out = takeValue();
        if (r.out.trim() === '') throw new ConfigError('out', 'a folder path (not empty)', r.out);
        break;
      case 'variant':
        r.variant = takeValue();
        break;
      case 'config':
        configFile = takeValue();
        break;
      case 'backend':
        r.backend = takeValue();
        break;
      case 'workers':
        r.workers = intOption(takeValue(), 'workers', 1, 256);
        break;
      default:
        pairs.push([flag, takeValue()]);
    }
  }
  let fileConfig: Record<string, unknown> = {};
  if (configFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(configFile, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read --config ${configFile}: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('config', `a JSON object of config fields in ${configFile}`, parsed);
    }
    fileConfig = parsed as Record<string, unknown>;
  }
  const overrides = parseOverrides(pairs);
  // a single value for a list field is a list of one (`--models relu-output`); an empty one, an empty list
  for (const [key, value] of Object.entries(overrides)) {
    const spec = (exp.schema as Record<string, { type: string } | undefined>)[key];
    if (spec && (spec.type === 'numbers' || spec.type === 'enums') && !Array.isArray(value)) overrides[key] = value === '' ? [] : [value];
  }
  r.input = { ...fileConfig, ...overrides };
  // Validate everything before choosing a backend or touching the disk.
  resolveConfig(exp, r.input, r.variant);
  checkOneOf(r.backend, 'backend', ['auto', ...NODE_BACKENDS] as const);
  return r;
}

async function run(args: string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  const a = await parseRunArgs('run', args, { shard: 'value', seeds: 'value' });
  const { exp, out, variant, input, resume, restart, maxMemory, quiet } = a;
  const workers = a.workers ?? availableParallelism();
  const backend = a.backend;
  const shard = typeof a.extra.shard === 'string' ? parseShard(a.extra.shard) : undefined;
  const seeds = typeof a.extra.seeds === 'string' ? intOption(a.extra.seeds, 'seeds', 1, 1000) : undefined;
  if (shard && seeds !== undefined) throw new ConfigError('seeds', 'not with --shard (run each seed as its own sharded run, with --seed)', seeds);
  if (shard && (resume || restart)) throw new ConfigError(resume ? 'resume' : 'restart', 'not with --shard (a shard always reuses the units saved in <out>/.units)', true);
  const prefer = checkOneOf(backend, 'backend', ['auto', ...NODE_BACKENDS] as const);
  const info = await useNodeBackend({ prefer });
  const bar = new ProgressBar({ quiet, stream: io.progressStream });
  if (!quiet) io.err(info.message);
  // on WebGPU the tied models train on the fused GPU engine, with batches drawn on the GPU
  const gpu = info.webgpu ? await createWebGPUEngine({ gpu: info.webgpu.gpu }) : undefined;
  if (gpu && !quiet) io.err(`tms: WebGPU adapter ${gpu.adapter.label}`);
  const engines = gpu ? [gpu, ...nodeEngines(workers)] : undefined;
  const generator = gpu ? ('philox' as const) : undefined;

  // the first SIGINT/SIGTERM stops training (finished units stay for --resume); a second one exits at once
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stoppedBy) process.exit(sig === 'SIGTERM' ? 143 : 130);
    stoppedBy = sig;
    controller.abort();
  };
  const onAbort = () => onSignal('SIGINT');
  signal?.addEventListener('abort', onAbort);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const meta = { backend: { name: info.name, tfBackend: info.tfBackend, skipped: info.skipped, ...(gpu ? { adapter: gpu.adapter } : {}) } };
    if (shard) {
      const done = await runShard(exp, input, { out: resolve(out), variant, maxMemory, progress: bar, signal: controller.signal, workers, meta, shard, engines, generator });
      io.out(
        `shard ${shard.index}/${shard.count}: trained ${done.trained.length} unit${done.trained.length === 1 ? '' : 's'}${done.trained.length ? ` (${done.trained.join(', ')})` : ''}` +
          `${done.reused.length ? `, found ${done.reused.length} saved (${done.reused.join(', ')})` : ''}; ${done.others} belong to other shards. ` +
          `When all ${shard.count} shards are done: tms merge ${out}`,
      );
      return 0;
    }
    if (seeds !== undefined) {
      const done = await runSeeds(exp, input, seeds, { out: resolve(out), variant, resume, restart, maxMemory, progress: bar, signal: controller.signal, workers, meta, engines, generator });
      const claims = done.summary.claims.filter((c) => c.of > 0);
      const held = claims.filter((c) => c.passed === c.of).length;
      io.out(
        `wrote ${done.runs.length} runs (seeds ${done.summary.seeds[0]}–${done.summary.seeds.at(-1)}${done.reused.length ? `, ${done.reused.length} reused` : ''}) and ${done.files.join(', ')}; ` +
          `${held} of ${claims.length} claims hold on every seed (tms check ${out} lists them per seed, --by-claim per claim)`,
      );
      return 0;
    }
    const summary = await runExperiment(exp, input, {
      out: resolve(out),
      variant,
      resume,
      restart,
      maxMemory,
      progress: bar,
      signal: controller.signal,
      workers,
      meta,
      engines,
      generator,
    });
    io.out(`wrote ${summary.files.join(', ')}`);
    return 0;
  } catch (e) {
    if (controller.signal.aborted && !(e instanceof ConfigError || e instanceof FolderLockedError)) {
      io.err(
        shard
          ? `tms: interrupted by ${stoppedBy}; finished units are saved in ${unitStore(resolve(out))} — rerun the same shard to continue`
          : seeds !== undefined
            ? `tms: interrupted by ${stoppedBy}; finished seeds are in ${out}/seed-<s>/, the parts of seeds still training in their .partial folders — rerun with --resume to continue`
            : `tms: interrupted by ${stoppedBy}; finished parts are saved in ${stagingFolder(resolve(out))} — rerun with --resume to continue; ${out} is unchanged`,
      );
      return stoppedBy === 'SIGTERM' ? 143 : 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    signal?.removeEventListener('abort', onAbort);
    // the engine's own device (main() may run again in the same process: a library caller, the tests)
    gpu?.destroy();
  }
}

/** The flags of `tms slurm` and `tms k8s` beside the run options. */
const CLUSTER_FLAGS = {
  shards: 'value',
  partition: 'value',
  time: 'value',
  cpus: 'value',
  gpus: 'value',
  account: 'value',
  'dry-run': 'switch',
  tms: 'value',
  image: 'value',
  claim: 'value',
  mount: 'value',
  namespace: 'value',
  name: 'value',
} as const;

/** `tms merge <out> [--wait <seconds>] [--quiet]`: write the results of a sharded run once every unit is saved. */
async function merge(args: string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  const out = args[0];
  if (!out || out.startsWith('--')) throw new UsageError('merge needs the output folder of a sharded run: tms merge <out> [--wait <seconds>] [--quiet]');
  let wait = 0;
  let quiet = false;
  for (let i = 1; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === '--quiet' && inline === undefined) quiet = true;
    else if (flag === '--wait') {
      wait = intOption(inline ?? args[++i], 'wait', 0, 30 * 86_400);
    } else throw new UsageError(`merge takes --wait <seconds> and --quiet; not "${args[i]}"`);
  }
  const bar = new ProgressBar({ quiet, stream: io.progressStream });
  const summary = await mergeShards(resolve(out), { progress: bar, wait, signal });
  io.out(`merged ${summary.results.experiment} into ${summary.outDir}: wrote ${summary.files.join(', ')}`);
  return 0;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A size like `8GB`, `512MiB` or `1e9` in bytes. */
function parseSize(text: string, field: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit ? Number(m[1]) * unit : NaN;
  if (!(bytes >= 1)) throw new ConfigError(field, 'a size in bytes, or with a unit: kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB', text);
  return bytes;
}
