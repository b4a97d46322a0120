// writeAtomic and removeStaleTemporaries on real files (issue 12, items 6, 7 and 11): an in-place
// rewrite keeps owner, group, mode, times and extended attributes, refuses to part hard links
// unless asked, and the cleanup of temporary files never removes a file that a live process of
// another PID namespace, or a user, may own.
import { execFileSync } from 'node:child_process';
import { chown, link, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getAttribute, setAttribute } from '@napi-rs/xattr';
import { describe, expect, it } from 'vitest';
import { ExifFixError } from '../src/errors.js';
import { removeStaleTemporaries, TEMP_MARKER, temporaryName, temporaryOwner, temporaryScope, writeAtomic } from '../src/write.js';
import { tempDir } from './helpers.js';

const HOUR = 60 * 60 * 1000;

/** A PID that no process of this namespace has (a child that has exited and been reaped). */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());
}

async function inPlace(file: string, data: string, more: Parameters<typeof writeAtomic>[2] = {}) {
  const s = await stat(file);
  return writeAtomic(file, Buffer.from(data), {
    mode: s.mode,
    times: { atimeMs: s.atimeMs, mtimeMs: s.mtimeMs },
    owner: { uid: s.uid, gid: s.gid },
    copyXattrsFrom: file,
    expect: { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs },
    ...more,
  });
}

describe('in-place rewrites keep what the owner expects', () => {
  it('keeps the owner and group when the process may set them, and says so when it may not', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    await writeFile(file, 'original');
    const root = process.getuid?.() === 0;
    if (root) {
      await chown(file, 65534, 65534);
      const { warnings } = await inPlace(file, 'normalized');
      const s = await stat(file);
      expect([s.uid, s.gid]).toEqual([65534, 65534]);
      expect(warnings).toEqual([]);
    } else {
      const { warnings } = await inPlace(file, 'normalized', { owner: { uid: 65534, gid: 65534 } });
      expect(warnings.join('\n')).toMatch(/owner 65534:65534 not kept \(EPERM\)/);
    }
    expect(await readFile(file, 'utf8')).toBe('normalized');
  });

  it('keeps the mode bits and the modification time', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    await writeFile(file, 'original', { mode: 0o640 });
    const before = await stat(file);
    await inPlace(file, 'normalized');
    const after = await stat(file);
    expect(after.mode & 0o7777).toBe(0o640);
    // utimes(2) from Node takes seconds as a double: the time is kept to well under a microsecond.
    expect(after.mtimeMs).toBeCloseTo(before.mtimeMs, 2);
    expect(after.ino).not.toBe(before.ino);
  });

  it('copies extended attributes to the new file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    await writeFile(file, 'original');
    await setAttribute(file, 'user.xdg.origin.url', 'https://example.org/a.jpg');
    await setAttribute(file, 'user.checksum', Buffer.from([0, 1, 2, 255]));
    const { warnings } = await inPlace(file, 'normalized');
    expect(warnings).toEqual([]);
    expect((await getAttribute(file, 'user.xdg.origin.url'))?.toString()).toBe('https://example.org/a.jpg');
    expect([...((await getAttribute(file, 'user.checksum')) ?? [])]).toEqual([0, 1, 2, 255]);
  });

  it('names what it could not keep when the extended attributes cannot be read', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    await writeFile(file, 'original');
    const { warnings } = await writeAtomic(file, Buffer.from('normalized'), { copyXattrsFrom: path.join(dir, 'gone.jpg') });
    expect(warnings).toEqual(['extended attributes were not read, so not kept (ENOENT)']);
    expect(await readFile(file, 'utf8')).toBe('normalized');
  });

  it('refuses a file with other hard links, leaving every link and no temporary file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    const other = path.join(dir, 'b.jpg');
    await writeFile(file, 'original');
    await link(file, other);
    const error = await inPlace(file, 'normalized').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExifFixError);
    expect((error as ExifFixError).code).toBe('linked');
    expect((error as ExifFixError).message).toMatch(/`.*a\.jpg` has 1 other hard link; .*breakHardLinks/);
    expect(await readFile(file, 'utf8')).toBe('original');
    expect((await stat(file)).ino).toBe((await stat(other)).ino);
    expect((await readdir(dir)).sort()).toEqual(['a.jpg', 'b.jpg']);
  });

  it('parts a hard-linked file from its links with breakHardLinks, and says so', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jpg');
    const other = path.join(dir, 'b.jpg');
    await writeFile(file, 'original');
    await link(file, other);
    const { warnings } = await inPlace(file, 'normalized', { breakHardLinks: true });
    expect(warnings).toEqual(['parted from its 1 other hard link, which keep the old contents']);
    expect(await readFile(file, 'utf8')).toBe('normalized');
    expect(await readFile(other, 'utf8')).toBe('original');
  });

  it('writes a target whose name is 250 bytes long (the temporary name does not grow with it)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, `${'n'.repeat(246)}.jpg`);
    await writeFile(file, 'original');
    await inPlace(file, 'normalized');
    expect(await readFile(file, 'utf8')).toBe('normalized');
    expect(await readdir(dir)).toEqual([path.basename(file)]);
  });
});

describe('temporary files only their owner removes', () => {
  it('names temporary files so that only names it made are recognised', () => {
    const name = temporaryName();
    expect(name.startsWith(TEMP_MARKER)).toBe(true);
    expect(name.length).toBeLessThan(80);
    expect(temporaryOwner(name)).toEqual({ scope: temporaryScope(), pid: process.pid });
    const forged = name.replace(/-([0-9a-f]{8})\.tmp$/, (_m, c: string) => `-${c === '00000000' ? '11111111' : '00000000'}.tmp`);
    expect(temporaryOwner(forged)).toBeNull();
    expect(temporaryOwner('.a.jpg.exif-fix-tmp-12345-0123456789ab')).toBeNull();
  });

  it('keeps user files that match the old temporary-name pattern with a dead PID', async () => {
    const dir = await tempDir();
    const user = path.join(dir, `.a.jpg.exif-fix-tmp-${deadPid()}-0123456789ab`);
    const lookalike = path.join(dir, `.exif-fix-${temporaryScope()}-${deadPid()}-0123456789abcdef-00000000.tmp`);
    await writeFile(user, 'a user file');
    await writeFile(lookalike, 'another user file');
    expect(await removeStaleTemporaries([dir], { now: Date.now() + 1000 * HOUR })).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([path.basename(lookalike), path.basename(user)].sort());
  });

  it('keeps a fresh temporary file of another PID namespace whose PID does not exist here', async () => {
    const dir = await tempDir();
    const other = { scope: temporaryScope() === 'abcdef012345' ? 'abcdef012346' : 'abcdef012345', pid: deadPid() };
    const live = path.join(dir, temporaryName(other));
    await writeFile(live, 'being written by a shard in another pod');
    expect(await removeStaleTemporaries([dir])).toEqual([]);
    expect(await readdir(dir)).toEqual([path.basename(live)]);
    // Abandoned for longer than the age limit, it goes.
    expect(await removeStaleTemporaries([dir], { now: Date.now() + 25 * HOUR })).toEqual([live]);
  });

  it('removes a temporary file of a dead process of its own namespace, and keeps a live one', async () => {
    const dir = await tempDir();
    const stale = path.join(dir, temporaryName({ scope: temporaryScope(), pid: deadPid() }));
    const live = path.join(dir, temporaryName());
    await writeFile(stale, 'partial');
    await writeFile(live, 'in progress');
    const removed = await removeStaleTemporaries([dir]);
    if (temporaryScope() === '000000000000') expect(removed).toEqual([]);
    else expect(removed).toEqual([stale]);
    expect(await readdir(dir)).toContain(path.basename(live));
  });

  it('never opens an existing file as its temporary file, and removes its own after a failed write', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'a.jpg');
    await writeFile(target, 'original');
    const enospc = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    let seen = '';
    const writer = async (file: string) => {
      seen = file;
      // The file exists and is empty: it was created with O_EXCL for this write.
      expect((await stat(file)).size).toBe(0);
      throw enospc;
    };
    await expect(writeAtomic(target, Buffer.from('normalized'), { writer })).rejects.toThrow(/Cannot write `.*a\.jpg`: ENOSPC/);
    expect(temporaryOwner(path.basename(seen))).toEqual({ scope: temporaryScope(), pid: process.pid });
    expect(await readdir(dir)).toEqual(['a.jpg']);
  });
});
