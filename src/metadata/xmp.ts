/**
 * Reading and rewriting orientation in an XMP packet (XMP Specification Part 2, section 3.2.2:
 * the TIFF namespace `http://ns.adobe.com/tiff/1.0/`, property `Orientation`).
 *
 * The packet is treated as text and only the values that must change are replaced, so the rest
 * of the packet (and its padding) is kept byte for byte.
 */

/**
 * The namespace string before the XMP packet in a JPEG APP1 segment (XMP Specification Part 3,
 * section 1.1.3), also found in PNG raw profiles copied from JPEG.
 */
export const XMP_APP1_HEADER: Uint8Array = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');

const TIFF_NS = 'http://ns.adobe.com/tiff/1.0/';
const EXIF_NS = 'http://ns.adobe.com/exif/1.0/';

/** The XMP namespace prefixes bound to `uri` in this packet (usually just `tiff` or `exif`). */
function prefixesFor(xmp: string, uri: string): string[] {
  const prefixes = new Set<string>();
  const re = /xmlns:([A-Za-z_][\w.-]*)\s*=\s*["']([^"']*)["']/g;
  for (let m = re.exec(xmp); m; m = re.exec(xmp)) if (m[2] === uri) prefixes.add(m[1]);
  return [...prefixes];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Regexps matching `prefix:name="v"` (attribute form) and `<prefix:name>v</prefix:name>` (element
 * form). Group 2 is the value with the whitespace around it: callers trim it.
 *
 * The value is matched greedily by a class that excludes its own terminator, with no `\s*` on
 * either side: the earlier `\s*([^"'<]*?)\s*` let three quantifiers share a run of whitespace,
 * so an unterminated value followed by n spaces backtracked in O(n^3) (35 s for 4000 spaces, a
 * hostile file could hang a run). Each match attempt is now linear, and it matches the same
 * text: the value still ends at the first quote (or `<`), as before.
 */
function propertyPatterns(prefix: string, name: string): RegExp[] {
  const p = escapeRegExp(`${prefix}:${name}`);
  return [
    new RegExp(`(\\s${p}\\s*=\\s*["'])([^"'<]*)(["'])`, 'g'),
    new RegExp(`(<${p}>)([^<]*)(</${p}>)`, 'g'),
  ];
}

/**
 * The raw `tiff:Orientation` value of an XMP packet, whatever prefix the packet binds to the
 * TIFF namespace.
 *
 * @param xmp - the packet text (UTF-8 decoded).
 * @returns the value as an integer (possibly outside 1-8; `NaN` when it is not a number), or
 *   `undefined` when the packet has none.
 */
export function readXmpOrientation(xmp: string): number | undefined {
  for (const prefix of prefixesFor(xmp, TIFF_NS)) {
    for (const re of propertyPatterns(prefix, 'Orientation')) {
      const m = re.exec(xmp);
      if (!m) continue;
      const value = m[2].trim();
      return /^\d+$/.test(value) ? Number(value) : Number.NaN;
    }
  }
  return undefined;
}

/**
 * Rewrites an XMP packet for an upright image: `tiff:Orientation` becomes 1, and the pixel size
 * properties (`tiff:ImageWidth`/`tiff:ImageLength`, `exif:PixelXDimension`/`exif:PixelYDimension`)
 * take the new size where they are present. Nothing else changes.
 *
 * @param xmp - the packet text.
 * @param width - new width in pixels.
 * @param height - new height in pixels.
 * @returns the new packet text (identical when nothing needed changing).
 */
export function patchXmp(xmp: string, width: number, height: number): string {
  const replace = (text: string, uri: string, name: string, value: number) => {
    for (const prefix of prefixesFor(text, uri)) {
      for (const re of propertyPatterns(prefix, name)) {
        text = text.replace(re, (_all, open: string, _old: string, close: string) => `${open}${value}${close}`);
      }
    }
    return text;
  };
  let out = replace(xmp, TIFF_NS, 'Orientation', 1);
  out = replace(out, TIFF_NS, 'ImageWidth', width);
  out = replace(out, TIFF_NS, 'ImageLength', height);
  out = replace(out, EXIF_NS, 'PixelXDimension', width);
  out = replace(out, EXIF_NS, 'PixelYDimension', height);
  return out;
}

/**
 * Rewrites an XMP packet given as bytes; see {@link patchXmp}. Keeps the packet's length when the
 * new values are no longer than the old ones by taking the difference out of (or adding it to)
 * the trailing whitespace padding that XMP packets carry for in-place edits.
 *
 * @param bytes - UTF-8 packet bytes.
 * @returns the new bytes, or the same array when nothing changed.
 */
export function patchXmpBytes(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const patched = patchXmp(text, width, height);
  if (patched === text) return bytes;
  let out: Buffer = Buffer.from(patched, 'utf8');
  const delta = out.length - bytes.length;
  if (delta !== 0) out = rebalancePadding(out, delta);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Takes `delta` spaces out of (or puts them into) the padding before `<?xpacket end`. */
function rebalancePadding(packet: Buffer, delta: number): Buffer {
  const end = packet.lastIndexOf('<?xpacket end');
  if (end < 0) return packet;
  let padStart = end;
  while (padStart > 0 && (packet[padStart - 1] === 0x20 || packet[padStart - 1] === 0x0a)) padStart--;
  const padding = end - padStart;
  if (delta > 0 && padding <= delta) return packet;
  const newPadding = padding - delta;
  const pad = Buffer.alloc(newPadding, 0x20);
  return Buffer.concat([packet.subarray(0, padStart), pad, packet.subarray(end)]);
}
