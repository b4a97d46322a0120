#!/usr/bin/env node
// The plain sharp pipeline a user would write: autoOrient().keepMetadata(), default JPEG
// settings, p-limit at 2. Usage: node bench/peers/sharp-plain.js <in-dir> <out-dir>
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';

const [input, output] = process.argv.slice(2);
mkdirSync(output, { recursive: true });
const limit = pLimit(2);
const names = readdirSync(input).filter((n) => /\.jpe?g$/i.test(n));
await Promise.all(names.map((n) => limit(() => sharp(path.join(input, n)).autoOrient().keepMetadata().toFile(path.join(output, n)))));
