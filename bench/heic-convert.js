#!/usr/bin/env node
// One HEIC to an upright JPEG (or PNG/WebP) with exif-fix's conversion, as a whole process, for
// timing with an outside tool (e.g. `/usr/bin/time -v node bench/heic-convert.js IMG.heic`).
//
//   npm run build && node bench/heic-convert.js <file.heic> [jpeg|png|webp] [out-file]
//
// Prints the output size in pixels and bytes, the orientation baked in and any warnings; writes
// the result to out-file when given. Run `heif-convert <file.heic> out.jpg` (libheif-examples)
// the same way for a native libheif yardstick.
import { readFileSync, writeFileSync } from 'node:fs';
import { heif } from '../dist/containers/heif.js';
import { convertHeif } from '../dist/pixels/heif-convert.js';

const [file, to = 'jpeg', out] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/heic-convert.js <file.heic> [jpeg|png|webp] [out-file]');
  process.exit(2);
}
const bytes = readFileSync(file);
const result = await convertHeif(bytes, heif.read(bytes), { to });
if (out) writeFileSync(out, result.data);
console.log(`${result.width}x${result.height} ${result.format} ${result.data.length} bytes, orientation ${result.orientation} baked in${result.warnings.length ? `; ${result.warnings.join('; ')}` : ''}`);
