#!/usr/bin/env python3
"""The Pillow peer: ImageOps.exif_transpose, saved at quality 92, 4:2:0, EXIF kept, 2 processes.

Usage: python3 bench/peers/pillow.py <in-dir> <out-dir>
"""
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from PIL import Image, ImageOps


def fix(job):
    source, target = job
    with Image.open(source) as im:
        upright = ImageOps.exif_transpose(im)
        exif = upright.info.get("exif") or im.info.get("exif", b"")
        upright.save(target, "JPEG", quality=92, subsampling=2, exif=exif, icc_profile=im.info.get("icc_profile"))


def main():
    source_dir, target_dir = sys.argv[1], sys.argv[2]
    os.makedirs(target_dir, exist_ok=True)
    names = sorted(n for n in os.listdir(source_dir) if n.lower().endswith((".jpg", ".jpeg")))
    jobs = [(os.path.join(source_dir, n), os.path.join(target_dir, n)) for n in names]
    with ProcessPoolExecutor(max_workers=2) as pool:
        for _ in pool.map(fix, jobs):
            pass


if __name__ == "__main__":
    main()
