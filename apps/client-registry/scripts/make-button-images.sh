#!/bin/sh
# Renders the "Add to Smooch" button images authorize-ui serves under /static/ (1x 165x40, 2x 330x80).
# Needs ImageMagick (apt-get install imagemagick) and the DejaVu fonts; output is byte-for-byte reproducible.
set -eu
out="$(dirname "$0")/../../authorize-ui/public"
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

render() { # scale file
  s=$1
  w=$((165 * s)); h=$((40 * s)); r=$((6 * s))
  # No timestamps or other metadata in the file, so the same inputs give the same bytes.
  convert -size "${w}x${h}" xc:none \
    -fill '#2f6fde' -draw "roundrectangle 0,0 $((w - 1)),$((h - 1)) $r,$r" \
    -font "$font" -pointsize $((15 * s)) -fill white -gravity center -annotate +0+0 'Add to Smooch' \
    -strip -define png:exclude-chunks=date,time -define png:compression-level=9 \
    "PNG32:$out/$2"
}

render 1 add_to_button.png
render 2 add_to_button@2x.png
