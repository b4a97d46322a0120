/*
 * The entropy-coded work of the lossless JPEG transform, compiled to WebAssembly: Huffman
 * decoding of sequential and progressive scans into quantized DCT coefficients (ITU T.81
 * F.2.2 and G.1.2), the symbol statistics and the Huffman encoding of the transformed blocks
 * (T.81 F.1.2, libjpeg jchuff.c encode_mcu_gather / encode_one_block), with the block
 * transform applied on the fly (transupp.c rules, as transform.ts describes them).
 *
 * This is a line-by-line port of the TypeScript reference (decode.ts, bitreader.ts,
 * encode.ts), which stays the specification: every exported function here does what the
 * function of the same name there does, with the same checks, and tests compare the two
 * coefficient for coefficient and byte for byte. The TypeScript side parses the markers,
 * builds the Huffman tables, lays the memory out and writes the headers; this file only
 * touches memory it is given.
 *
 * Build: scripts/build-kernel.js (clang --target=wasm32 -nostdlib, no libc). KERNEL_SIMD selects
 * the WebAssembly SIMD variants of two loops; the committed module is built without it (see there).
 */
#include <stdint.h>
#ifdef KERNEL_SIMD
#include <wasm_simd128.h>
#endif

typedef int32_t i32;
typedef uint32_t u32;
typedef int16_t i16;
typedef uint16_t u16;
typedef uint8_t u8;
typedef uint64_t u64;

#define EXPORT(name) __attribute__((export_name(#name)))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Error codes, turned into the reference's messages by kernel/index.ts. */
enum {
  E_OK = 0,
  E_DC_CATEGORY = 1,   /* detail: the category */
  E_NO_CODE = 2,
  E_AC_RUN_BLOCK = 3,
  E_TRUNCATED_SCAN = 4,
  E_TRUNCATED_INTERVAL = 5,
  E_RESTART = 6,       /* detail: the expected n of RSTn */
  E_AC_RUN_BAND = 7,
  E_REFINE_BITS = 8,
  E_REFINE_RUN = 9,
  E_DC_TOO_LARGE = 10,
  E_AC_TOO_LARGE = 11,
};

static i32 error_detail;

EXPORT(kernel_error_detail) i32 kernel_error_detail(void) { return error_detail; }

/* ---------------------------------------------------------------------------------------
 * Huffman decoding tables, as huffman.ts buildDecodeTable makes them (copied in by index.ts).
 */
#define LOOK_BITS 9
#define LOOK_MASK ((1 << LOOK_BITS) - 1)

typedef struct {
  u16 look[1 << LOOK_BITS];   /* (length << 8) | symbol, 0 when the code is longer */
  i32 fast_ac[1 << LOOK_BITS]; /* value * 4096 + run * 256 + size * 16 + bits used, or 0 */
  i32 maxcode[18];
  i32 val_offset[18];
  u8 values[256];
} HuffTable;

/* Tables 0-3 DC, 4-7 AC. */
static HuffTable tables[8];

EXPORT(kernel_tables) HuffTable *kernel_tables(void) { return tables; }

/* ---------------------------------------------------------------------------------------
 * One scan to decode, filled in by index.ts (every field 32 bits, in this order).
 */
typedef struct {
  i32 coef;     /* address of the component's i16 coefficients */
  i32 nz;       /* address of its i32 nonzero map, two words per block */
  i32 nz_in;    /* progressive only: the map in the file's zigzag order */
  i32 freq;     /* address of its u32[256] output AC statistics, or 0 */
  i32 dc;       /* table index 0-3, or -1 */
  i32 ac;       /* table index 4-7, or -1 */
  i32 h, v, bw, bh, sx, sy;
  i32 pred;
  i32 offsets;    /* packed storage (see decode_block): address of u32 offset per block, or 0 */
  i32 packed_at;  /* packed storage: next free i16 index in `coef` */
} ScanComp;

enum { KIND_SEQ = 0, KIND_DC_FIRST = 1, KIND_DC_REFINE = 2, KIND_AC_FIRST = 3, KIND_AC_REFINE = 4 };
enum { STATS_NONE = 0, STATS_SAME_ORDER = 1, STATS_TRANSPOSED = 2 };

typedef struct {
  i32 data;      /* address of the whole file */
  i32 end;       /* file length */
  i32 pos;       /* in: offset of the entropy-coded data; out: offset of the next marker */
  i32 kind;
  i32 ncomp;
  i32 mcus_x, mcus_y;
  i32 ri;        /* restart interval in MCUs, 0 for none */
  i32 ss, se, ah, al;
  i32 stats;     /* STATS_* for components with a freq address */
  i32 out_pos[64];
  i32 store[64];
  ScanComp comps[4];
} Scan;

static Scan scan;

EXPORT(kernel_scan) Scan *kernel_scan(void) { return &scan; }

/* ---------------------------------------------------------------------------------------
 * Bit reader (bitreader.ts BitReader): removes stuffed zeros, stops in front of markers and
 * feeds counted zero bits past them.
 */
typedef struct {
  const u8 *data;
  u32 pos;
  u32 end;
  u64 buf;
  i32 cnt;
  i32 pad;
  i32 at_marker;
  u32 next_ff;
} Reader;

static void fill(Reader *r) {
  const u8 *data = r->data;
  u64 buf = r->buf;
  i32 cnt = r->cnt;
  u32 pos = r->pos;
  while (cnt <= 24) {
    u32 b = 0;
    if (!r->at_marker && pos < r->end) {
      b = data[pos];
      if (b == 0xff) {
        if (pos + 1 < r->end && data[pos + 1] == 0) {
          pos += 2;
        } else {
          r->at_marker = 1;
          r->pad++;
          b = 0;
        }
      } else {
        pos++;
      }
    } else {
      r->pad++;
    }
    buf = (buf << 8) | b;
    cnt += 8;
  }
  r->buf = buf;
  r->cnt = cnt;
  r->pos = pos;
}

/* Offset of the first 0xFF byte at or after `pos`, or the end of the data. */
static u32 find_ff(const Reader *r, u32 pos) {
  const u8 *data = r->data;
  u32 end = r->end;
#ifdef KERNEL_SIMD
  const v128_t ff = wasm_i8x16_splat((int8_t)0xff);
  while (pos + 16 <= end) {
    u32 m = (u32)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(data + pos), ff));
    if (m != 0) return pos + (u32)__builtin_ctz(m);
    pos += 16;
  }
#endif
  while (pos < end && data[pos] != 0xff) pos++;
  return pos;
}

static inline i32 overran(const Reader *r) { return r->pad * 8 > r->cnt; }

static inline u32 get_bits(Reader *r, i32 n) {
  if (r->cnt < n) fill(r);
  r->cnt -= n;
  return (u32)(r->buf >> r->cnt) & ((1u << n) - 1);
}

static inline u32 get_bit(Reader *r) {
  if (r->cnt < 1) fill(r);
  r->cnt--;
  return (u32)(r->buf >> r->cnt) & 1;
}

static inline i32 extend(u32 v, i32 n) {
  return v < (1u << (n - 1)) ? (i32)v - (1 << n) + 1 : (i32)v;
}

static inline i32 receive_extend(Reader *r, i32 n) {
  return extend(get_bits(r, n), n);
}

/* DECODE (T.81 F.2.2.3); returns the symbol, or -1 for a bit pattern that is no code. */
static i32 decode_symbol(Reader *r, const HuffTable *t) {
  if (r->cnt < 16) fill(r);
  u32 e = t->look[(u32)(r->buf >> (r->cnt - LOOK_BITS)) & LOOK_MASK];
  if (e != 0) {
    r->cnt -= (i32)(e >> 8);
    return (i32)(e & 0xff);
  }
  for (i32 l = LOOK_BITS + 1; l <= 16; l++) {
    i32 code = (i32)((u32)(r->buf >> (r->cnt - l)) & ((1u << l) - 1));
    if (code <= t->maxcode[l]) {
      r->cnt -= l;
      return t->values[(code + t->val_offset[l]) & 0xff];
    }
  }
  return -1;
}

static i32 fast_ac(Reader *r, const HuffTable *t) {
  if (r->cnt < 16) fill(r);
  i32 e = t->fast_ac[(u32)(r->buf >> (r->cnt - LOOK_BITS)) & LOOK_MASK];
  if (e != 0) r->cnt -= e & 15;
  return e;
}

static i32 finish(Reader *r) {
  if (overran(r)) return E_TRUNCATED_INTERVAL;
  r->buf = 0;
  r->cnt = 0;
  if (!r->at_marker) {
    const u8 *data = r->data;
    u32 pos = r->pos;
    while (pos < r->end && !(data[pos] == 0xff && pos + 1 < r->end && data[pos + 1] != 0)) pos++;
    r->pos = pos;
  }
  r->at_marker = 0;
  r->pad = 0;
  return E_OK;
}

static i32 restart(Reader *r, i32 expected) {
  i32 err = finish(r);
  if (err) return err;
  const u8 *data = r->data;
  u32 pos = r->pos;
  while (pos < r->end && data[pos] == 0xff) pos++;
  if (pos >= r->end || data[pos] != 0xd0 + expected) {
    error_detail = expected;
    return E_RESTART;
  }
  r->pos = pos + 1;
  return E_OK;
}

/* Refill for decode_block: four bytes at once while no 0xFF byte is near (bitreader.ts does two). */
#define REFILL()                                                          \
  do {                                                                    \
    if (cnt < 32) {                                                       \
      if (pos + 4 <= next_ff) {                                           \
        u32 w_;                                                           \
        __builtin_memcpy(&w_, data + pos, 4);                             \
        buf = (buf << 32) | __builtin_bswap32(w_);                        \
        cnt += 32;                                                        \
        pos += 4;                                                         \
      } else if (cnt < 16) {                                              \
        SYNC_OUT();                                                       \
        fill(r);                                                          \
        SYNC_IN();                                                        \
      }                                                                   \
    }                                                                     \
  } while (0)
#define SYNC_OUT() do { r->buf = buf; r->cnt = cnt; r->pos = pos; } while (0)
#define SYNC_IN()                                       \
  do {                                                  \
    buf = r->buf; cnt = r->cnt; pos = r->pos;           \
    if (pos > next_ff) next_ff = find_ff(r, pos);       \
  } while (0)

static u8 cat_scratch[64];
static i16 scratch_block[64];

/*
 * One whole sequential block (bitreader.ts decodeBlock): DC difference, AC symbols up to EOB,
 * the nonzero map, and with `stats` the output AC symbol statistics.
 *
 * Full storage (`packed_len` NULL): the 64 coefficients at `coef`, zeroed first with plain
 * stores (as a memset it would become a memory.fill, which V8 runs as a call out of the module:
 * about a tenth of the whole transform, measured).
 * Packed storage (the kernel's own layout for sequential input): `coef` receives the DC, then
 * the nonzero AC coefficients in output zigzag order (the order of the nonzero map's bits), and
 * `*packed_len` their count; about a third of the memory of full storage for a photo, written
 * in decoding order (no zeroing, no strided writes for the transposed orientations 5-8).
 * Returns E_OK or an error; the predictor is updated in place.
 */
__attribute__((no_builtin("memset"), always_inline))
static inline i32 decode_block(Reader *r, const HuffTable *dc, const HuffTable *ac, i16 *coef, i32 *pred, i32 *nz,
                               const i32 *out_pos, const i32 *store, i32 stats, u32 *freq, i32 *packed_len) {
  const u8 *data = r->data;
  u64 buf = r->buf;
  i32 cnt = r->cnt;
  u32 pos = r->pos;
  u32 next_ff = r->next_ff;
  if (!packed_len) {
#ifdef KERNEL_SIMD
    for (i32 i = 0; i < 64; i += 8) wasm_v128_store(coef + i, wasm_i64x2_const(0, 0));
#else
    for (i32 i = 0; i < 64; i++) coef[i] = 0;
#endif
  }
  i16 *scratch = scratch_block;
  REFILL();
  i32 s;
  u32 e = dc->look[(u32)(buf >> (cnt - LOOK_BITS)) & LOOK_MASK];
  if (LIKELY(e != 0)) {
    cnt -= (i32)(e >> 8);
    s = (i32)(e & 0xff);
  } else {
    SYNC_OUT();
    s = decode_symbol(r, dc);
    SYNC_IN();
    if (s < 0) return E_NO_CODE;
  }
  if (s != 0) {
    if (s > 15) { error_detail = s; return E_DC_CATEGORY; }
    if (cnt < s) { SYNC_OUT(); fill(r); SYNC_IN(); }
    cnt -= s;
    u32 v = (u32)(buf >> cnt) & ((1u << s) - 1);
    *pred = (i32)((u32)*pred + (u32)extend(v, s));
  }
  coef[0] = (i16)*pred;
  const i32 *fast = ac->fast_ac;
  const u16 *look = ac->look;
  u8 *cat = cat_scratch;
  u32 lo = 0, hi = 0;
  i32 last = 0, zrl_at = -1, trailing = 0;
  for (i32 k = 1; k < 64; k++) {
    REFILL();
    u32 idx = (u32)(buf >> (cnt - LOOK_BITS)) & LOOK_MASK;
    i32 f = fast[idx];
    i32 value, rs;
    if (f != 0) {
      cnt -= f & 15;
      k += (f >> 8) & 15;
      value = f >> 12;
      rs = (f >> 4) & 0xff;
    } else {
      e = look[idx];
      if (e != 0) {
        cnt -= (i32)(e >> 8);
        rs = (i32)(e & 0xff);
      } else {
        SYNC_OUT();
        rs = decode_symbol(r, ac);
        SYNC_IN();
        if (rs < 0) return E_NO_CODE;
      }
      s = rs & 15;
      if (s == 0) {
        if (rs != 0xf0) break;
        if (stats == STATS_SAME_ORDER) {
          freq[0xf0]++;
          trailing = zrl_at > last ? trailing + 1 : 1;
          zrl_at = k;
        }
        k += 15;
        continue;
      }
      k += rs >> 4;
      if (cnt < s) { SYNC_OUT(); fill(r); SYNC_IN(); }
      cnt -= s;
      u32 v = (u32)(buf >> cnt) & ((1u << s) - 1);
      value = extend(v, s);
    }
    if (UNLIKELY(k > 63)) return E_AC_RUN_BLOCK;
    i32 q = out_pos[k];
    if (packed_len) scratch[q] = (i16)value; else coef[store[k]] = (i16)value;
    if (q < 32) lo |= 1u << (31 - q); else hi |= 1u << (63 - q);
    if (stats == STATS_SAME_ORDER) {
      freq[rs]++;
      last = k;
    } else if (stats == STATS_TRANSPOSED) {
      cat[q] = (u8)rs;
    }
  }
  r->buf = buf;
  r->cnt = cnt;
  r->pos = pos;
  r->next_ff = next_ff;
  nz[0] = (i32)lo;
  nz[1] = (i32)hi;
  if (packed_len) {
    i32 n = 1;
    u64 m = ((u64)lo << 32) | hi;
    while (m != 0) {
      i32 q = __builtin_clzll(m);
      m ^= 1ull << (63 - q);
      coef[n++] = scratch[q];
    }
    *packed_len = n;
  }
  if (stats == STATS_SAME_ORDER) {
    if (zrl_at > last) freq[0xf0] -= (u32)trailing;
    if (last < 63) freq[0]++;
  } else if (stats == STATS_TRANSPOSED) {
    i32 prev = 0;
    u64 m = ((u64)lo << 32) | hi;
    while (m != 0) {
      i32 q = __builtin_clzll(m);
      m ^= 1ull << (63 - q);
      i32 run = q - prev - 1;
      prev = q;
      while (run > 15) { freq[0xf0]++; run -= 16; }
      freq[(run << 4) | (cat[q] & 15)]++;
    }
    if (prev < 63) freq[0]++;
  }
  return E_OK;
}

#define COEF(c) ((i16 *)(uintptr_t)(c)->coef)
#define NZ(c) ((i32 *)(uintptr_t)(c)->nz)
#define NZ_IN(c) ((i32 *)(uintptr_t)(c)->nz_in)

/* One block of whichever kind the scan is, at block index `b` of component `sc`. */
static inline i32 scan_block(Reader *r, ScanComp *sc, i32 b, i32 real) {
  i16 *coef = COEF(sc) + (u32)b * 64;
  switch (scan.kind) {
    case KIND_SEQ: {
      u32 *freq = (u32 *)(uintptr_t)sc->freq;
      i32 stats = real && freq ? scan.stats : STATS_NONE;
      if (sc->offsets) {
        i32 n, err;
        ((u32 *)(uintptr_t)sc->offsets)[b] = (u32)sc->packed_at;
        err = decode_block(r, &tables[sc->dc], &tables[sc->ac], COEF(sc) + (u32)sc->packed_at, &sc->pred,
                           NZ(sc) + (u32)b * 2, scan.out_pos, scan.store, stats, freq, &n);
        sc->packed_at += n;
        return err;
      }
      return decode_block(r, &tables[sc->dc], &tables[sc->ac], coef, &sc->pred, NZ(sc) + (u32)b * 2, scan.out_pos,
                          scan.store, stats, freq, 0);
    }
    case KIND_DC_FIRST: {
      i32 s0 = decode_symbol(r, &tables[sc->dc]);
      if (s0 < 0) return E_NO_CODE;
      if (s0 > 15) { error_detail = s0; return E_DC_CATEGORY; }
      if (s0 != 0) sc->pred = (i32)((u32)sc->pred + (u32)receive_extend(r, s0));
      coef[0] = (i16)((u32)sc->pred << scan.al);
      return E_OK;
    }
    default: /* KIND_DC_REFINE */
      if (get_bit(r)) coef[0] |= (i16)(1 << scan.al);
      return E_OK;
  }
}

/* decode.ts decodeBlocks: the MCUs of a scan with restart handling. */
static i32 decode_blocks(Reader *r) {
  i32 ri = scan.ri;
  i32 left = ri, rst = 0, err;
  if (scan.ncomp == 1) {
    ScanComp *sc = &scan.comps[0];
    for (i32 by = 0; by < sc->bh; by++) {
      for (i32 bx = 0; bx < sc->bw; bx++) {
        if (ri != 0) {
          if (left == 0) {
            if ((err = restart(r, rst))) return err;
            rst = (rst + 1) & 7; left = ri; sc->pred = 0;
          }
          left--;
        }
        if ((err = scan_block(r, sc, by * sc->sy + bx * sc->sx, 1))) return err;
      }
      if (overran(r)) return E_TRUNCATED_SCAN;
    }
    return E_OK;
  }
  for (i32 my = 0; my < scan.mcus_y; my++) {
    for (i32 mx = 0; mx < scan.mcus_x; mx++) {
      if (ri != 0) {
        if (left == 0) {
          if ((err = restart(r, rst))) return err;
          rst = (rst + 1) & 7; left = ri;
          for (i32 i = 0; i < scan.ncomp; i++) scan.comps[i].pred = 0;
        }
        left--;
      }
      for (i32 i = 0; i < scan.ncomp; i++) {
        ScanComp *sc = &scan.comps[i];
        for (i32 y = 0; y < sc->v; y++) {
          i32 by = my * sc->v + y;
          i32 row = by * sc->sy + mx * sc->h * sc->sx;
          for (i32 x = 0; x < sc->h; x++) {
            if ((err = scan_block(r, sc, row + x * sc->sx, by < sc->bh && mx * sc->h + x < sc->bw))) return err;
          }
        }
      }
    }
    if (overran(r)) return E_TRUNCATED_SCAN;
  }
  return E_OK;
}

#define SET_NZ(map, w, q) ((map)[(w) + ((q) >> 5)] |= (i32)(1u << (31 - ((q) & 31))))

/* decode.ts decodeAcFirst (T.81 G.1.2.2). */
static i32 decode_ac_first(Reader *r) {
  ScanComp *sc = &scan.comps[0];
  i16 *coef = COEF(sc);
  i32 *nz = NZ(sc), *nz_in = NZ_IN(sc);
  const HuffTable *ac = &tables[sc->ac];
  const i32 *zz = scan.store, *out_pos = scan.out_pos;
  i32 ss = scan.ss, se = scan.se, al = scan.al, ri = scan.ri;
  i32 total = sc->bw * sc->bh;
  i32 eobrun = 0, left = ri, rst = 0, i = 0, err;
  while (i < total) {
    if (ri != 0 && left == 0) {
      if ((err = restart(r, rst))) return err;
      rst = (rst + 1) & 7; left = ri; eobrun = 0;
    }
    if (eobrun > 0) {
      i32 n = eobrun < total - i ? eobrun : total - i;
      if (ri != 0 && left < n) n = left;
      eobrun -= n;
      i += n;
      if (ri != 0) left -= n;
      continue;
    }
    u32 off = (u32)((i / sc->bw) * sc->sy + (i % sc->bw) * sc->sx) * 64;
    u32 w = off >> 5;
    for (i32 k = ss; k <= se; k++) {
      i32 fe = fast_ac(r, ac);
      if (fe != 0) {
        k += (fe >> 8) & 15;
        if (k > se) return E_AC_RUN_BAND;
        coef[off + zz[k]] = (i16)((u32)(fe >> 12) << al);
        SET_NZ(nz, w, out_pos[k]);
        SET_NZ(nz_in, w, k);
        continue;
      }
      i32 rs = decode_symbol(r, ac);
      if (rs < 0) return E_NO_CODE;
      i32 s = rs & 15, run = rs >> 4;
      if (s != 0) {
        k += run;
        if (k > se) return E_AC_RUN_BAND;
        coef[off + zz[k]] = (i16)((u32)receive_extend(r, s) << al);
        SET_NZ(nz, w, out_pos[k]);
        SET_NZ(nz_in, w, k);
      } else if (run == 15) {
        k += 15;
      } else {
        eobrun = (1 << run) - 1;
        if (run != 0) eobrun += (i32)get_bits(r, run);
        break;
      }
    }
    i++;
    if (ri != 0) left--;
    if ((i & 1023) == 0 && overran(r)) return E_TRUNCATED_SCAN;
  }
  return E_OK;
}

/* Correction bits for the nonzero coefficients whose storage indices `m` marks (bits of word `half`). */
#define REFINE_SET_BITS(m, half)                                              \
  while ((m) != 0) {                                                          \
    i32 z_ = __builtin_clz(m);                                                \
    (m) ^= 1u << (31 - z_);                                                   \
    u32 p_ = off + (u32)zz[((half) << 5) + z_];                               \
    i32 v_ = coef[p_];                                                        \
    if (v_ != 0 && get_bit(r) && (v_ & p1) == 0) coef[p_] = (i16)(v_ >= 0 ? v_ + p1 : v_ + m1); \
  }

/* decode.ts decodeAcRefine (T.81 G.1.2.3). */
static i32 decode_ac_refine(Reader *r) {
  ScanComp *sc = &scan.comps[0];
  i16 *coef = COEF(sc);
  i32 *nz = NZ(sc), *nz_in = NZ_IN(sc);
  const HuffTable *ac = &tables[sc->ac];
  const i32 *zz = scan.store, *out_pos = scan.out_pos;
  i32 ss = scan.ss, se = scan.se, al = scan.al, ri = scan.ri;
  i32 p1 = 1 << al, m1 = (i32)(~0u << al);
  i32 eobrun = 0, left = ri, rst = 0, err;
  for (i32 by = 0; by < sc->bh; by++) {
    for (i32 bx = 0; bx < sc->bw; bx++) {
      if (ri != 0) {
        if (left == 0) {
          if ((err = restart(r, rst))) return err;
          rst = (rst + 1) & 7; left = ri; eobrun = 0;
        }
        left--;
      }
      u32 off = (u32)(by * sc->sy + bx * sc->sx) * 64;
      u32 w = off >> 5;
      if (eobrun > 0 && nz_in[w] == 0 && nz_in[w + 1] == 0) {
        eobrun--;
        continue;
      }
      i32 k = ss;
      if (eobrun == 0) {
        for (; k <= se; k++) {
          i32 rs = decode_symbol(r, ac);
          if (rs < 0) return E_NO_CODE;
          i32 s = rs & 15, run = rs >> 4;
          if (s != 0) {
            if (s != 1) return E_REFINE_BITS;
            s = get_bit(r) ? p1 : m1;
          } else if (run != 15) {
            eobrun = 1 << run;
            if (run != 0) eobrun += (i32)get_bits(r, run);
            break;
          }
          i32 target = se + 1;
          for (i32 half = k >> 5; half <= se >> 5; half++) {
            i32 from = half == k >> 5 ? (k & 31) : 0;
            i32 to = half == se >> 5 ? (se & 31) : 31;
            u32 range = (~0u >> from) & (to == 31 ? ~0u : ~(~0u >> (to + 1)));
            u32 word = (u32)nz_in[w + half];
            u32 zeros = ~word & range;
            i32 zpos = -1;
            while (zeros != 0) {
              i32 z = __builtin_clz(zeros);
              if (run == 0) { zpos = z; break; }
              run--;
              zeros ^= 1u << (31 - z);
            }
            u32 m = zpos >= 0 ? (word & range & ~(~0u >> zpos)) : (word & range);
            REFINE_SET_BITS(m, half);
            if (zpos >= 0) { target = (half << 5) + zpos; break; }
          }
          k = target;
          if (s != 0) {
            if (k > se) return E_REFINE_RUN;
            coef[off + zz[k]] = (i16)s;
            SET_NZ(nz, w, out_pos[k]);
            SET_NZ(nz_in, w, k);
          }
        }
      }
      if (eobrun > 0) {
        if (k <= se) {
          for (i32 half = k >> 5; half <= se >> 5; half++) {
            u32 m = (u32)nz_in[w + half];
            if (half == k >> 5) m &= ~0u >> (k & 31);
            if (half == se >> 5 && (se & 31) != 31) m &= ~(~0u >> ((se & 31) + 1));
            REFINE_SET_BITS(m, half);
          }
        }
        eobrun--;
      }
    }
    if (overran(r)) return E_TRUNCATED_SCAN;
  }
  return E_OK;
}

/*
 * Decodes the entropy-coded data of the scan described by `scan` (decode.ts decodeScan after
 * its header checks). Returns E_OK, with scan.pos on the next marker, or an error code.
 */
EXPORT(kernel_decode_scan) i32 kernel_decode_scan(void) {
  Reader r;
  r.data = (const u8 *)(uintptr_t)scan.data;
  r.pos = (u32)scan.pos;
  r.end = (u32)scan.end;
  r.buf = 0;
  r.cnt = 0;
  r.pad = 0;
  r.at_marker = 0;
  r.next_ff = 0;
  for (i32 i = 0; i < 4; i++) scan.comps[i].pred = 0;
  i32 err;
  switch (scan.kind) {
    case KIND_AC_FIRST: err = decode_ac_first(&r); break;
    case KIND_AC_REFINE: err = decode_ac_refine(&r); break;
    default: err = decode_blocks(&r); break;
  }
  if (err) return err;
  if ((err = finish(&r))) return err;
  scan.pos = (i32)r.pos;
  return E_OK;
}

/* Zeroes `n` bytes at `p` (memory.fill). */
EXPORT(kernel_zero) void kernel_zero(u8 *p, u32 n) { __builtin_memset(p, 0, n); }

/* ---------------------------------------------------------------------------------------
 * Encoding (encode.ts): one scan's components, their block mappings and Huffman tables.
 */
typedef struct {
  i32 src;      /* address of the source coefficients (output zigzag order) */
  i32 nz;       /* address of the source nonzero maps */
  i32 h, v, bw, bh;
  i32 origin, step_x, step_y;
  i32 table;    /* Huffman table 0 or 1 */
  i32 offsets;  /* packed storage: address of the u32 offset of each block in `src`, or 0 */
} EncComp;

typedef struct {
  i32 ncomp;
  i32 interleaved;
  i32 mcus_x, mcus_y;
  EncComp comps[4];
} EncScan;

static EncScan enc;
/* Indexed by (table << 9) | (class << 8) | symbol, as in encode.ts. */
static u32 freq[1024];
static i32 codes[1024];
static u8 lengths[1024];
static i32 flip[64];

EXPORT(kernel_enc_scan) EncScan *kernel_enc_scan(void) { return &enc; }
EXPORT(kernel_freq) u32 *kernel_freq(void) { return freq; }
EXPORT(kernel_codes) i32 *kernel_codes(void) { return codes; }
EXPORT(kernel_lengths) u8 *kernel_lengths(void) { return lengths; }
EXPORT(kernel_flip) i32 *kernel_flip(void) { return flip; }

#define AC 0x100
#define ZRL 0xf0

static inline i32 nbits(i32 a) { return a == 0 ? 0 : 32 - __builtin_clz((u32)a); }

/*
 * Calls BODY with `blk` (storage index), `base` (coefficient offset, -1 for a dummy block) and `ci` for every block
 * of the scan `enc` in coding order (encode.ts blockList, T.81 A.2).
 */
#define FOR_EACH_BLOCK(BODY)                                                          \
  if (!enc.interleaved) {                                                             \
    const EncComp *c = &enc.comps[0];                                                 \
    const i32 ci = 0;                                                                 \
    (void)ci;                                                                         \
    for (i32 y = 0; y < c->bh; y++) {                                                 \
      i32 b = c->origin + y * c->step_y;                                              \
      for (i32 x = 0; x < c->bw; x++, b += c->step_x) {                               \
        const i32 blk = b;                                                            \
        const i32 base = c->offsets ? (i32)((const u32 *)(uintptr_t)c->offsets)[b] : b * 64; \
        (void)blk;                                                                    \
        BODY                                                                          \
      }                                                                               \
    }                                                                                 \
  } else {                                                                            \
    for (i32 my = 0; my < enc.mcus_y; my++) {                                         \
      for (i32 mx = 0; mx < enc.mcus_x; mx++) {                                       \
        for (i32 ci = 0; ci < enc.ncomp; ci++) {                                      \
          const EncComp *c = &enc.comps[ci];                                          \
          for (i32 yy = 0; yy < c->v; yy++) {                                         \
            i32 y = my * c->v + yy;                                                   \
            for (i32 xx = 0; xx < c->h; xx++) {                                       \
              i32 x = mx * c->h + xx;                                                 \
              const i32 blk = c->origin + x * c->step_x + y * c->step_y;              \
              const i32 base = !(x < c->bw && y < c->bh) ? -1                          \
                : c->offsets ? (i32)((const u32 *)(uintptr_t)c->offsets)[blk] : blk * 64; \
              (void)blk;                                                              \
              BODY                                                                    \
            }                                                                         \
          }                                                                           \
        }                                                                             \
      }                                                                               \
    }                                                                                 \
  }

/* encode.ts countDc: DC symbols in coding order, and the DC and EOB symbols of dummy blocks. */
EXPORT(kernel_count_dc) i32 kernel_count_dc(void) {
  i32 pred[4] = {0, 0, 0, 0};
  FOR_EACH_BLOCK({
    const i32 t = c->table << 9;
    if (base < 0) {
      freq[t]++;
      freq[t | AC]++;
    } else {
      i32 dc = ((const i16 *)(uintptr_t)c->src)[base];
      i32 diff = dc - pred[ci];
      pred[ci] = dc;
      i32 nb = nbits(diff < 0 ? -diff : diff);
      if (nb > 15) return E_DC_TOO_LARGE;
      freq[t | nb]++;
    }
  })
  return E_OK;
}

/* encode.ts countAc for component 0 of `enc` (progressive input): into freq[table AC part]. */
EXPORT(kernel_count_ac) i32 kernel_count_ac(u32 *out) {
  const EncComp *c = &enc.comps[0];
  const i16 *src = (const i16 *)(uintptr_t)c->src;
  const u32 *nz = (const u32 *)(uintptr_t)c->nz;
  for (i32 y = 0; y < c->bh; y++) {
    for (i32 x = 0; x < c->bw; x++) {
      u32 base = (u32)(c->origin + x * c->step_x + y * c->step_y) * 64;
      u32 w = base >> 5;
      u64 m = ((u64)nz[w] << 32) | nz[w + 1];
      i32 prev = 0;
      while (m != 0) {
        i32 q = __builtin_clzll(m);
        m ^= 1ull << (63 - q);
        i32 v = src[base + q];
        if (v == 0) continue;
        i32 run = q - prev - 1;
        prev = q;
        while (run > 15) { out[ZRL]++; run -= 16; }
        i32 neg = v >> 31;
        i32 s = nbits((v ^ neg) - neg);
        if (s > 15) return E_AC_TOO_LARGE;
        out[(run << 4) | s]++;
      }
      if (prev < 63) out[0]++;
    }
  }
  return E_OK;
}

/*
 * Bit writer with byte stuffing (T.81 F.1.2.3): a 64-bit accumulator, flushed 32 bits at a
 * time; the usual case (no 0xFF among the four bytes) is one test.
 */
#define FLUSH32()                                                           \
  do {                                                                      \
    nb -= 32;                                                               \
    u32 w_ = (u32)(acc >> nb);                                              \
    u32 x_ = ~w_;                                                           \
    if (LIKELY(((x_ - 0x01010101u) & ~x_ & 0x80808080u) == 0)) {            \
      out[0] = (u8)(w_ >> 24); out[1] = (u8)(w_ >> 16);                     \
      out[2] = (u8)(w_ >> 8); out[3] = (u8)w_;                              \
      out += 4;                                                             \
    } else {                                                                \
      for (i32 s_ = 24; s_ >= 0; s_ -= 8) {                                 \
        u8 b_ = (u8)(w_ >> s_);                                             \
        *out++ = b_;                                                        \
        if (b_ == 0xff) *out++ = 0;                                         \
      }                                                                     \
    }                                                                       \
  } while (0)
#define PUT(code, len)                                                      \
  do {                                                                      \
    acc = (acc << (len)) | (u64)(code);                                     \
    nb += (len);                                                            \
    if (nb >= 32) FLUSH32();                                                \
  } while (0)

/*
 * encode.ts emitScan followed by stuffBytes: writes the stuffed entropy-coded data of the scan
 * `enc` at `out0` with the tables in `codes`/`lengths` and the sign flips in `flip`. Returns
 * the number of bytes written.
 */
EXPORT(kernel_emit_scan) i32 kernel_emit_scan(u8 *out0) {
  u8 *out = out0;
  u64 acc = 0;
  i32 nb = 0;
  i32 pred[4] = {0, 0, 0, 0};
  FOR_EACH_BLOCK({
    const i32 tdc = c->table << 9;
    const i32 tac = tdc | AC;
    if (base < 0) {
      PUT(codes[tdc], lengths[tdc]);
      PUT(codes[tac], lengths[tac]);
    } else {
      const i16 *src = (const i16 *)(uintptr_t)c->src + base;
      i32 dc = src[0];
      i32 diff = dc - pred[ci];
      pred[ci] = dc;
      i32 dneg = diff >> 31;
      i32 ds = nbits((diff ^ dneg) - dneg);
      i32 didx = tdc | ds;
      PUT(((u32)codes[didx] << ds) | ((u32)(diff + dneg) & ((1u << ds) - 1)), lengths[didx] + ds);
      const u32 *nz = (const u32 *)(uintptr_t)c->nz + (u32)blk * 2;
      u64 m = ((u64)nz[0] << 32) | nz[1];
      i32 prev = 0;
      /* Full storage: coefficient q at src[q]; packed: the nonzero ones in order after the DC. */
      const i32 packed = c->offsets != 0;
      i32 at = 0;
      while (m != 0) {
        i32 q = __builtin_clzll(m);
        m ^= 1ull << (63 - q);
        at = packed ? at + 1 : q;
        i32 v = src[at];
        if (v == 0) continue;
        i32 run = q - prev - 1;
        prev = q;
        while (run > 15) {
          PUT(codes[tac | ZRL], lengths[tac | ZRL]);
          run -= 16;
        }
        i32 f = flip[q];
        v = (v ^ f) - f;
        i32 neg = v >> 31;
        i32 s = nbits((v ^ neg) - neg);
        i32 idx = tac | (run << 4) | s;
        PUT(((u32)codes[idx] << s) | ((u32)(v + neg) & ((1u << s) - 1)), lengths[idx] + s);
      }
      if (prev < 63) PUT(codes[tac], lengths[tac]);
    }
  })
  while (nb >= 8) {
    nb -= 8;
    u8 b = (u8)(acc >> nb);
    *out++ = b;
    if (b == 0xff) *out++ = 0;
  }
  if (nb > 0) {
    u8 b = (u8)((acc << (8 - nb)) | ((1u << (8 - nb)) - 1));
    *out++ = b;
    if (b == 0xff) *out++ = 0;
  }
  return (i32)(out - out0);
}
