/**
 * The registry of container modules and recognition of a file's container by its bytes.
 */
import { jpeg } from './jpeg.js';
import { png } from './png.js';
import { webp } from './webp.js';
import { heif } from './heif.js';
import { tiff } from './tiff.js';
import type { Container, ContainerInfo, ImageFormat } from './types.js';

/** Container modules that can normalize, in sniffing order. */
export const CONTAINERS: readonly Container<ContainerInfo>[] = [
  jpeg as unknown as Container<ContainerInfo>,
  png as unknown as Container<ContainerInfo>,
  webp as unknown as Container<ContainerInfo>,
  tiff as unknown as Container<ContainerInfo>,
  heif as unknown as Container<ContainerInfo>,
];

/** Formats that carry no orientation at all (docs/DESIGN.md section 2): always upright. */
const UPRIGHT_FORMATS: ReadonlyArray<{ format: ImageFormat; sniff: (b: Uint8Array) => boolean }> = [
  { format: 'gif', sniff: (b) => b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 },
  { format: 'bmp', sniff: (b) => b.length >= 14 && b[0] === 0x42 && b[1] === 0x4d },
];

/** What {@link recognise} found. */
export type Recognised =
  | { readonly kind: 'container'; readonly container: Container<ContainerInfo> }
  | { readonly kind: 'upright'; readonly format: ImageFormat }
  | { readonly kind: 'unknown' };

/**
 * Recognises a file's container from its first bytes, never from its extension.
 *
 * @param bytes - the file (only the first 32 bytes are looked at).
 */
export function recognise(bytes: Uint8Array): Recognised {
  for (const container of CONTAINERS) if (container.sniff(bytes)) return { kind: 'container', container };
  for (const f of UPRIGHT_FORMATS) if (f.sniff(bytes)) return { kind: 'upright', format: f.format };
  return { kind: 'unknown' };
}

/** File extensions (lower case, with the dot) that promise an image; such a file that is not one is an error. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.tif', '.tiff', '.heic', '.heif', '.avif', '.hif', '.gif', '.bmp',
]);
