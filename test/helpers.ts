// Shared test helpers: temporary directories, CLI runs, pixel comparison. Tests use real files
// and the real sharp; nothing here stands in for the code under test.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterEach, expect } from 'vitest';
import { EXIF_FACTS } from '../scripts/fixtures/common.js';
import type { Container, ContainerInfo } from '../src/containers/types.js';
import { ExifFixError } from '../src/errors.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = path.join(ROOT, 'fixtures');
/** Real photos (exif-orientation-examples, MIT; see fixtures/photos/SOURCE.md), in orientations 0-8. */
export const CORPUS = path.join(FIXTURES, 'photos');
const BIN = path.join(ROOT, 'bin', 'exif-fix.js');

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A new empty temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'exif-fix-test-'));
  made.push(dir);
  return dir;
}

/** Copies `from` (file or directory) into a new temporary directory and returns the copy's path. */
export async function copyToTemp(from: string, name = path.basename(from)): Promise<string> {
  const dir = await tempDir();
  const to = path.join(dir, name);
  await cp(from, to, { recursive: true });
  return to;
}

/** Runs the built CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runCli(args: string[], cwd: string, stdin?: Buffer | string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliRaw(args, cwd, stdin).then((r) => ({ code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr }));
}

/** Like {@link runCli}, with stdout as bytes (for the stdin-to-stdout pipe). */
export function runCliRaw(args: string[], cwd: string, stdin?: Buffer | string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(stdin ?? '');
  });
}

/** Decoded pixels of an image file, in its own colour space (no ICC conversion). */
export async function pixels(file: string | Buffer, options: { cmyk?: boolean; depth16?: boolean } = {}) {
  let image = sharp(file, { ignoreIcc: true });
  if (options.cmyk) image = image.pipelineColourspace('cmyk').toColourspace('cmyk');
  const { data, info } = await image.raw(options.depth16 ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Mean absolute difference per sample between two decoded images of the same size. */
export function meanAbsDiff(a: { data: Buffer }, b: { data: Buffer }): number {
  if (a.data.length !== b.data.length) return Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

/** The bytes of a file. */
export const bytesOf = (file: string) => readFile(file);

/**
 * Copies a fixture stored with orientation `o` into a temporary directory and normalizes it to
 * `<dir>/out/<name>`, checking what every container's test checks first: no error, `rotated`
 * (or `copied` for 1) and the orientation found.
 */
export async function normalizeFixtureCopy(fixture: string, o: number) {
  const { normalizeFile } = await import('../src/index.js');
  const { expect } = await import('vitest');
  const dir = await tempDir();
  const input = await copyToTemp(fixture);
  const output = path.join(dir, 'out', path.basename(input));
  const result = await normalizeFile(input, output);
  expect(result.error).toBeNull();
  expect(result.action).toBe(o === 1 ? 'copied' : 'rotated');
  expect(result.orientation).toBe(o);
  return { dir, input, output, result };
}

/** Every file below `dir`, as sorted relative paths (an empty list when `dir` does not exist). */
export async function tree(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** exifr options for reading an output's EXIF as coded values, each IFD apart. */
export const EXIFR_OPTIONS = { tiff: true, ifd1: true, exif: true, gps: true, xmp: false, userComment: true, mergeOutput: false, translateValues: false, reviveValues: false };

/**
 * Asserts that EXIF read back by exifr (with {@link EXIFR_OPTIONS}) still holds the facts the
 * fixture generator wrote (scripts/fixtures/common.js EXIF_FACTS), with the upright pixel size.
 */
export function expectExifFactsKept(tags: any, upright: { width: number; height: number }): void {
  expect(tags.ifd0.Make).toBe(EXIF_FACTS.Make);
  expect(tags.ifd0.Model).toBe(EXIF_FACTS.Model);
  expect(tags.exif.DateTimeOriginal).toBe(EXIF_FACTS.DateTimeOriginal);
  expect(Buffer.from(tags.userComment as Uint8Array).toString('latin1')).toContain(EXIF_FACTS.UserComment);
  expect(tags.gps.GPSLatitude).toEqual(EXIF_FACTS.GPSLatitude);
  expect([tags.exif.ExifImageWidth, tags.exif.ExifImageHeight]).toEqual([upright.width, upright.height]);
}

/**
 * Damages `files` (up to 8 bytes overwritten, then maybe cut short; 500 seeded runs) and asserts
 * that `container` reads and rewrites each damaged file to orientation 1 everywhere, or throws an
 * ExifFixError, never anything else.
 *
 * @param fixUp - run on the damaged bytes before the cut, e.g. to recompute PNG CRCs so that
 *   the damage reaches chunk contents.
 */
export async function expectDamagedFilesHandled<I extends ContainerInfo>(
  container: Container<I>,
  files: readonly Uint8Array[],
  fixUp: (bytes: Uint8Array) => void = () => {},
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(files.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat()),
      async (which, edits, cut) => {
        const bytes = Buffer.from(files[which]);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        fixUp(bytes);
        const damaged = cut === null ? bytes : bytes.subarray(0, cut % bytes.length);
        try {
          const info = container.read(damaged);
          const out = await container.write(damaged, info, null, { orientation: 1, warnings: [] });
          expect(container.read(out).places.every((place) => place.value === 1 || !Number.isInteger(place.value))).toBe(true);
        } catch (error) {
          if (!(error instanceof ExifFixError)) throw error;
        }
      },
    ),
    { numRuns: 500, seed: 42 },
  );
}

/**
 * The pids and environments of the processes whose parent is `pid`, from Linux's /proc (empty
 * elsewhere): the child a launcher started (src/launch.ts).
 */
export function childProcesses(pid: number): Array<{ pid: number; env: string[] }> {
  const found = [];
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'latin1');
      if (Number(/\nPPid:\s+(\d+)/.exec(status)?.[1]) !== pid) continue;
      found.push({ pid: Number(name), env: readFileSync(`/proc/${name}/environ`, 'latin1').split('\0') });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
