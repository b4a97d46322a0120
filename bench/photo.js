// Photo-like test pixels shared by the lossless benchmarks: smooth gradients and blobs, fine
// texture and mild sensor-like noise, deterministic for a seed.

/** Raw interleaved RGB pixels (width * height * 3 bytes) for `seed`. */
export function photo(width, height, seed) {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x100000000; };
  const blobs = Array.from({ length: 12 }, () => ({ x: rnd() * width, y: rnd() * height, r: 200 + rnd() * 900, c: [rnd(), rnd(), rnd()] }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 40 + (150 * x) / width;
      let g = 60 + (120 * y) / height;
      let b = 90 + (80 * (x + y)) / (width + height);
      for (const k of blobs) {
        const d = ((x - k.x) ** 2 + (y - k.y) ** 2) / (k.r * k.r);
        if (d < 1) { const f = 1 - d; r += 60 * f * k.c[0]; g += 60 * f * k.c[1]; b += 60 * f * k.c[2]; }
      }
      const t = 12 * Math.sin(x / 9 + Math.sin(y / 31) * 3) * Math.cos(y / 13);
      const n = (rnd() - 0.5) * 14;
      const i = (y * width + x) * 3;
      raw[i] = Math.max(0, Math.min(255, r + t + n));
      raw[i + 1] = Math.max(0, Math.min(255, g + t + n));
      raw[i + 2] = Math.max(0, Math.min(255, b + t * 0.5 + n));
    }
  }
  return raw;
}
