#!/usr/bin/env node
// The cost of fsync in writeAtomic (issue 12, item 11): rewrites N small files in place, the way
// an in-place run does (owner, extended attributes, mode, times kept; identity checked), with
// fsync of each file and its directory (the default in place) or without.
//
//   npm run build && node bench/write-fsync.js [--no-fsync] [--files N] [--bytes B] [--dir D]
//
// Time it as a whole process (e.g. `/usr/bin/time -v`, or hyperfine with and without
// --no-fsync); the files are made before the timed part, which is printed in milliseconds.
// D defaults to a new directory under the system's temporary directory (tmpfs ignores fsync:
// pass a directory on the disk you care about).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeAtomic } from '../dist/write.js';

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const fsync = !args.includes('--no-fsync');
const files = Number(value('--files', 200));
const bytes = Number(value('--bytes', 16 * 1024));
const parent = value('--dir', os.tmpdir());
const dir = mkdtempSync(path.join(parent, 'exif-fix-fsync-'));
try {
  const data = Buffer.alloc(bytes, 0x5a);
  const names = Array.from({ length: files }, (_, i) => path.join(dir, `${i}.jpg`));
  for (const f of names) writeFileSync(f, data);
  const started = performance.now();
  for (const f of names) {
    const s = statSync(f);
    await writeAtomic(f, data, {
      mode: s.mode,
      times: { atimeMs: s.atimeMs, mtimeMs: s.mtimeMs },
      owner: { uid: s.uid, gid: s.gid },
      copyXattrsFrom: f,
      expect: { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs },
      fsync,
    });
  }
  console.log(`${files} files of ${bytes} bytes rewritten in place, fsync ${fsync ? 'on' : 'off'}: ${(performance.now() - started).toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
