/**
 * Helpers of the reliability suite: each test replays one or more probes of
 * `notes/findings/reliability.md` and carries their ids (1–97, S01–S34,
 * M01–M16, D01–D21, T01–T28, L1, P1–P4) in its name, so the suite's report
 * says which probes hold.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { main } from '../../src/index.js';

/** A test that replays the probes `ids`. */
export function probe(ids: string, title: string, fn: () => Promise<void> | void, timeout?: number): void {
  it(`[${ids}] ${title}`, fn, timeout);
}

/** A new output folder path (not created) in a fresh temporary folder. */
export async function freshOut(name = 'out'): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'tms-rel-')), name);
}

/** Run `tms` in this process; the exit code with what it printed. */
export async function tms(args: string[], signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) }, signal);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Nothing of a run into `dir` exists: no folder, staging folder or lock. */
export function expectNothingWritten(dir: string): void {
  expect(existsSync(dir)).toBe(false);
  expect(existsSync(`${dir}.partial`)).toBe(false);
  expect(existsSync(`${dir}.lock`)).toBe(false);
}

/** Expect exit 2 with a message matching `pattern`, and nothing written into `dir`. */
export async function expectRefused(args: string[], pattern: RegExp, dir?: string): Promise<void> {
  const r = await tms(args);
  expect(r.err).toMatch(pattern);
  expect(r.code).toBe(2);
  if (dir) expectNothingWritten(dir);
}

/** Tiny training settings for probes that must run (seconds, not minutes). */
export const TINY = ['--models', 'relu-output', '--sparsities', '0,0.9', '--steps', '20', '--log-every', '10', '--batch-size', '64', '--workers', '1', '--quiet'];

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/** The built `tms` in a child process (for signals and concurrent runs). */
export function spawnTms(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string; ms: number }> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  child.stdout!.resume();
  const t0 = Date.now();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, err, ms: Date.now() - t0 })),
  );
  return { child, done };
}

/** Wait until `check()` holds (polling), or fail after `ms`. */
export async function until(check: () => boolean, ms = 60_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
