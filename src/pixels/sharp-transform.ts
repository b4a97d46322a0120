/**
 * The transform of each orientation value as sharp operations. sharp always mirrors before it
 * rotates, whatever the call order, so 5 (transpose) is a vertical flip then a 90 degree
 * rotation and 7 (transverse) a horizontal flop then a 90 degree rotation.
 */
import type { Sharp } from 'sharp';
import type { Orientation } from '../orientation.js';

/**
 * Adds to `image` the operations that make pixels stored with `orientation` upright.
 *
 * @param image - a sharp pipeline.
 * @param orientation - EXIF value 1-8 (docs/DESIGN.md section 1).
 * @returns the same pipeline.
 */
export function applyOrientation(image: Sharp, orientation: Orientation): Sharp {
  switch (orientation) {
    case 1:
      return image;
    case 2:
      return image.flop();
    case 3:
      return image.rotate(180);
    case 4:
      return image.flip();
    case 5:
      return image.flip().rotate(90);
    case 6:
      return image.rotate(90);
    case 7:
      return image.flop().rotate(90);
    case 8:
      return image.rotate(270);
  }
}
