// Labels never outside the input tree (issue 12, item 10): the YOLO/VOC layout rules replace only
// directories below the input root; label files that are symbolic links (or reached through a
// linked directory) are not followed without followSymlinks, and no message quotes a label file.
// In-place label rewrites keep what writeAtomic keeps (item 6).
import { chown, cp, link, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { transformAnnotations } from '../src/annotations/index.js';
import { applyRule, inputRoot, LAYOUTS, outputLabelPath } from '../src/annotations/locate.js';
import { normalize } from '../src/index.js';
import { FIXTURES, tempDir } from './helpers.js';

const IMAGE6 = path.join(FIXTURES, 'orientation', 'jpeg-420', 'jpeg-420_6.jpg');
const LABEL = '0 0.25 0.5 0.1 0.2\n';
// A secret shaped like a YOLO line, so that a parser quoting its bad value would print it.
const SECRET = 'api_key sk-live-hunter2-secret 1 2 3\n';
const [IMAGES_TO_LABELS, , BESIDE] = LAYOUTS.yolo;

describe('label layout rules stay below the input root', () => {
  it('replaces an images directory below the root, never the root itself nor one above it', () => {
    expect(applyRule('/d/ds/images/train/a.jpg', IMAGES_TO_LABELS, '.txt', '/d/ds')).toBe('/d/ds/labels/train/a.txt');
    expect(applyRule('ds/images/a.jpg', IMAGES_TO_LABELS, '.txt', '.')).toBe(path.join('ds', 'labels', 'a.txt'));
    expect(applyRule('/home/images/proj/data/a.jpg', IMAGES_TO_LABELS, '.txt', '/home/images/proj/data')).toBeNull();
    expect(applyRule('/d/ds/images/a.jpg', IMAGES_TO_LABELS, '.txt', '/d/ds/images')).toBeNull();
    expect(applyRule('/elsewhere/images/a.jpg', IMAGES_TO_LABELS, '.txt', '/d')).toBeNull();
    expect(applyRule('/home/images/proj/data/a.jpg', BESIDE, '.txt', '/home/images/proj/data')).toBe('/home/images/proj/data/a.txt');
  });

  it('keeps label outputs inside the output directory, even one named images', () => {
    expect(outputLabelPath('out/images/a.jpg', 'out', IMAGES_TO_LABELS, '.txt')).toBe(path.join('out', 'labels', 'a.txt'));
    expect(outputLabelPath('/x/images/a.jpg', '/x/images', IMAGES_TO_LABELS, '.txt')).toBe('/x/images/a.txt');
  });

  it('derives the input root from a discovered source and its relative path', () => {
    expect(inputRoot('ds/images/train/a.jpg', 'train/a.jpg')).toBe(path.join('ds', 'images'));
    expect(inputRoot('ds/a.jpg', 'ds/a.jpg')).toBe('.');
    expect(inputRoot('/abs/ds/a.jpg', 'a.jpg')).toBe('/abs/ds');
    expect(inputRoot('/a.jpg', 'a.jpg')).toBe('/');
  });

  it('in place, never rewrites a label file under an images directory above the input root', async () => {
    const dir = await tempDir();
    const data = path.join(dir, 'images', 'proj', 'data');
    const decoy = path.join(dir, 'labels', 'proj', 'data', 'a.txt');
    await mkdir(data, { recursive: true });
    await mkdir(path.dirname(decoy), { recursive: true });
    await cp(IMAGE6, path.join(data, 'a.jpg'));
    await writeFile(decoy, LABEL);
    const results = await normalize([data], { inPlace: true, cwd: dir });
    expect(results[0].orientation).toBe(6);
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir, roots: new Map([[results[0].input, data]]) });
    expect(rec.error).toBeNull();
    expect(rec.files).toEqual([]);
    expect(rec.warnings.join('\n')).toMatch(/labels\/proj\/data\/a\.txt` looks like its label file but is outside the input root/);
    expect(await readFile(decoy, 'utf8')).toBe(LABEL);
  });

  it('without roots, looks only below the working directory for an absolute input outside it', async () => {
    const dir = await tempDir();
    const data = path.join(dir, 'images', 'data');
    const decoy = path.join(dir, 'labels', 'data', 'a.txt');
    await mkdir(data, { recursive: true });
    await mkdir(path.dirname(decoy), { recursive: true });
    await cp(IMAGE6, path.join(data, 'a.jpg'));
    await writeFile(decoy, LABEL);
    const results = await normalize([data], { inPlace: true, cwd: data });
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: data });
    expect(rec.files).toEqual([]);
    expect(await readFile(decoy, 'utf8')).toBe(LABEL);
  });
});

describe('symbolic links to label files', () => {
  async function linkedDataset() {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
    await mkdir(path.join(dir, 'ds', 'labels'), { recursive: true });
    await cp(IMAGE6, path.join(dir, 'ds', 'images', 'a.jpg'));
    await writeFile(path.join(dir, 'secret'), SECRET);
    await symlink(path.join('..', '..', 'secret'), path.join(dir, 'ds', 'labels', 'a.txt'));
    const results = await normalize(['ds'], { out: 'out', cwd: dir });
    return { dir, results };
  }

  it('does not follow a label file that is a link, and never prints what it points to', async () => {
    const { dir, results } = await linkedDataset();
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', out: 'out', cwd: dir });
    expect(rec.error).toMatch(/`ds\/labels\/a\.txt` is a symbolic link or is reached through one; not followed \(use --follow-symlinks\)/);
    expect(rec.files).toEqual([]);
    await expect(stat(path.join(dir, 'out', 'labels', 'a.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('follows it with followSymlinks, and its error still quotes nothing of the file', async () => {
    const { dir, results } = await linkedDataset();
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', out: 'out', cwd: dir, followSymlinks: true });
    expect(rec.error).toBe('`ds/labels/a.txt`: line 1, value 1 is not a number');
  });

  it('does not follow a linked labels directory below the root', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
    await mkdir(path.join(dir, 'elsewhere'), { recursive: true });
    await cp(IMAGE6, path.join(dir, 'ds', 'images', 'a.jpg'));
    await writeFile(path.join(dir, 'elsewhere', 'a.txt'), LABEL);
    await symlink(path.join('..', 'elsewhere'), path.join(dir, 'ds', 'labels'));
    const results = await normalize(['ds'], { inPlace: true, cwd: dir });
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir });
    expect(rec.error).toMatch(/is a symbolic link or is reached through one; not followed/);
    expect(await readFile(path.join(dir, 'elsewhere', 'a.txt'), 'utf8')).toBe(LABEL);
  });
});

describe('in-place label rewrites keep what the owner expects', () => {
  async function inPlaceDataset() {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'ds', 'images'), { recursive: true });
    await mkdir(path.join(dir, 'ds', 'labels'), { recursive: true });
    await cp(IMAGE6, path.join(dir, 'ds', 'images', 'a.jpg'));
    const label = path.join(dir, 'ds', 'labels', 'a.txt');
    await writeFile(label, LABEL);
    const results = await normalize(['ds'], { inPlace: true, cwd: dir });
    return { dir, label, results };
  }

  it('refuses a hard-linked label file unless breakHardLinks', async () => {
    const { dir, label, results } = await inPlaceDataset();
    await link(label, path.join(dir, 'other.txt'));
    const [refused] = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir });
    expect(refused.error).toMatch(/has 1 other hard link/);
    expect(await readFile(label, 'utf8')).toBe(LABEL);
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir, breakHardLinks: true });
    expect(rec.error).toBeNull();
    expect(rec.warnings.join('\n')).toMatch(/parted from its 1 other hard link/);
    expect(await readFile(label, 'utf8')).toBe('0 0.5 0.25 0.2 0.1\n');
    expect(await readFile(path.join(dir, 'other.txt'), 'utf8')).toBe(LABEL);
  });

  it('keeps the owner and group of a label file when the process may set them', async () => {
    const { dir, label, results } = await inPlaceDataset();
    const root = process.getuid?.() === 0;
    if (root) await chown(label, 65534, 65534);
    const [rec] = await transformAnnotations(results, { format: 'yolo', space: 'stored', cwd: dir });
    expect(rec.error).toBeNull();
    const s = await stat(label);
    expect([s.uid, s.gid]).toEqual(root ? [65534, 65534] : [process.getuid?.(), process.getgid?.()]);
    expect(await readFile(label, 'utf8')).toBe('0 0.5 0.25 0.2 0.1\n');
    expect(await readdir(path.dirname(label))).toEqual(['a.txt']);
  });
});
