#!/bin/sh
# Generates fixtures/documents/: bilevel (1 bit per sample) document TIFFs in each orientation,
# in the compressions document scanners and fax datasets use, and a multi-page TIFF. Needs
# ImageMagick 6 (`convert`), libtiff-tools (`tiffcp`, `tiffset`) and exiftool (for the XMP); run once, the outputs are
# committed. Usage: sh scripts/make-document-fixtures.sh [fixturesDir]
set -eu
root=${1:-$(dirname "$0")/../fixtures}
out="$root/documents"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The upright page: 61x37 (not a multiple of 8, so rows end mid-byte), asymmetric shapes.
convert -size 61x37 xc:white -fill black -draw 'rectangle 3,3 20,10' -draw 'polygon 30,5 58,5 58,30' \
  -draw 'line 2,30 40,34' -draw 'circle 12,24 16,28' -monochrome "$work/upright.png"
# A second page, for the multi-page file.
convert -size 40x52 xc:white -fill black -draw 'rectangle 5,5 34,12' -draw 'line 5,20 34,46' -monochrome "$work/page2.png"

# How each orientation's stored pixels are made from the upright ones (the inverse transform).
stored() { # $1 orientation, $2 upright png, $3 output png
  case $1 in
    1) op='' ;; 2) op='-flop' ;; 3) op='-rotate 180' ;; 4) op='-flip' ;;
    5) op='-transpose' ;; 6) op='-rotate 270' ;; 7) op='-transverse' ;; 8) op='-rotate 90' ;;
  esac
  # shellcheck disable=SC2086
  convert "$2" $op +repage -monochrome "$3"
}

# Metadata every fixture carries: TIFF 6.0 ASCII tags, fax resolution (204x196 dpi, not
# square, so 5-8 must swap it) and an XMP packet with tiff:Orientation.
tag() { # $1 file, $2 orientation
  tiffset -s 274 "$2" "$1"
  tiffset -s 271 'ScanCo' "$1"
  tiffset -s 272 'DocScan 3000' "$1"
  tiffset -s 305 'scanner firmware 1.2' "$1"
  tiffset -s 306 '2024:05:06 07:08:09' "$1"
  tiffset -s 270 'invoice 42, page 1' "$1"
  tiffset -s 315 'A. Clerk' "$1"
  tiffset -s 33432 'Copyright ScanCo' "$1"
  exiftool -q -overwrite_original "-XMP-tiff:Orientation#=$2" "-XMP-dc:Title=invoice 42" "$1"
}

for o in 1 2 3 4 5 6 7 8; do
  stored "$o" "$work/upright.png" "$work/s.png"
  convert "$work/s.png" -monochrome -compress Group4 -density 204x196 -units PixelsPerInch "$work/g4.tif"
  tiffcp -c g4 "$work/g4.tif" "$out/g4_$o.tif" && tag "$out/g4_$o.tif" "$o"
  tiffcp -c packbits "$work/g4.tif" "$out/packbits_$o.tif" && tag "$out/packbits_$o.tif" "$o"
  tiffcp -c lzw "$work/g4.tif" "$out/lzw-1bit_$o.tif" && tag "$out/lzw-1bit_$o.tif" "$o"
  tiffcp -c g3:2d "$work/g4.tif" "$out/g3_$o.tif" && tag "$out/g3_$o.tif" "$o"
done

# Multi-page: page 1 stored for orientation 6, page 2 upright (orientation 1), page 3 stored for
# orientation 3; each page has its own Orientation tag.
stored 6 "$work/upright.png" "$work/p1.png"
stored 3 "$work/upright.png" "$work/p3.png"
convert "$work/p1.png" "$work/page2.png" "$work/p3.png" -monochrome -compress Group4 -density 204x196 -units PixelsPerInch "$work/multi.tif"
tiffcp -c g4 "$work/multi.tif" "$out/multipage-g4_6.tif"
tiffset -d 0 -s 274 6 "$out/multipage-g4_6.tif"
tiffset -d 1 -s 274 1 "$out/multipage-g4_6.tif"
tiffset -d 2 -s 274 3 "$out/multipage-g4_6.tif"
tiffset -d 0 -s 271 'ScanCo' "$out/multipage-g4_6.tif"
cp "$work/upright.png" "$out/upright.png"
cp "$work/page2.png" "$out/page2-upright.png"
echo "document fixtures written to $out"
