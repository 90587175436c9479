#!/bin/sh
# Collects freely licensed 3D meshes from Debian packages and converts them
# to OBJ files named for the renderer's classes, for `synth --mesh-dir DIR`
# and datasets/blender_render.py.  Never commit the resulting files: they
# are third-party data under their packages' licences (see the SOURCES.txt
# written next to them and /usr/share/doc/<package>/copyright).
#
#   gl-117-data   (GPL-2+)  aircraft, pickups, ships and trucks of the
#                           gl-117 flight game, 3DS models
#   glmark2-data  (GPL-3+)  the horse and cat of the glmark2 benchmark, 3DS
#
# Usage:
#   datasets/fetch_meshes.sh [--download] OUTDIR
#       Uses the packages if installed (apt-get install gl-117-data
#       glmark2-data); with --download, fetches missing ones with
#       `apt-get download` (no root needed) and unpacks them privately.
#   datasets/fetch_meshes.sh --convert-3ds IN.3ds OUT.obj
#       Converts one 3DS file (all its triangle meshes; z-up turned into
#       the renderer's y-up).
# Classes without a mesh keep their procedural family in bin/synth.  The
# models' front may not point to +x, which only offsets their tilt latent.
# Needs python3.  Exit status: 0 ok, 1 failure (nothing converted), 2 usage,
# 3 invalid input (a corrupt 3DS file).

set -u

usage() {
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
}

# Python 3DS -> OBJ converter (chunk format: id u16, length u32 incl. header).
convert_3ds() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
try:
    data = open(src, "rb").read()
except OSError as e:
    sys.stderr.write("%s: %s\n" % (src, e.strerror)); sys.exit(1)
verts, faces = [], []
state = {"base": 0}
def walk(off, end):
    while off + 6 <= end:
        cid, clen = struct.unpack_from("<HI", data, off)
        if clen < 6 or off + clen > end:
            raise ValueError("corrupt chunk 0x%04x at byte %d (length %d)" % (cid, off, clen))
        body, stop = off + 6, off + clen
        if cid in (0x4D4D, 0x3D3D, 0x4100):
            walk(body, stop)
        elif cid == 0x4000:
            walk(data.index(b"\0", body, stop) + 1, stop)
        elif cid == 0x4110:
            (n,) = struct.unpack_from("<H", data, body)
            if body + 2 + 12 * n > stop:
                raise ValueError("vertex list overruns its chunk at byte %d" % off)
            state["base"] = len(verts)
            for k in range(n):
                x, y, z = struct.unpack_from("<3f", data, body + 2 + 12 * k)
                verts.append((x, z, -y))
        elif cid == 0x4120:
            (n,) = struct.unpack_from("<H", data, body)
            if body + 2 + 8 * n > stop:
                raise ValueError("face list overruns its chunk at byte %d" % off)
            for k in range(n):
                a, b, c, _ = struct.unpack_from("<4H", data, body + 2 + 8 * k)
                faces.append((state["base"] + a, state["base"] + b, state["base"] + c))
        off = stop
try:
    if len(data) < 6 or struct.unpack_from("<H", data, 0)[0] != 0x4D4D:
        raise ValueError("not a 3DS file (no 0x4D4D main chunk)")
    walk(0, len(data))
    if not faces:
        raise ValueError("no triangles")
    if any(i >= len(verts) for f in faces for i in f):
        raise ValueError("face refers to a missing vertex")
except (ValueError, struct.error) as e:
    sys.stderr.write("%s: %s\n" % (src, e)); sys.exit(3)
try:
    with open(dst, "w") as f:
        f.write("# converted from %s\n" % src)
        for v in verts:
            f.write("v %.7g %.7g %.7g\n" % v)
        for a, b, c in faces:
            f.write("f %d %d %d\n" % (a + 1, b + 1, c + 1))
except OSError as e:
    sys.stderr.write("%s: %s\n" % (dst, e.strerror)); sys.exit(1)
PY
}

# package  path-under-the-package's-data-directory  class
TABLE='gl-117-data models/gl-14.3ds airplane
gl-117-data models/gl-15.3ds airplane
gl-117-data models/gl-16.3ds airplane
gl-117-data models/gl-21.3ds airplane
gl-117-data models/mig-29.3ds airplane
gl-117-data models/transp1.3ds airplane
gl-117-data models/pickup1.3ds automobile
gl-117-data models/pickup2.3ds automobile
gl-117-data models/ship1.3ds ship
gl-117-data models/ship2.3ds ship
gl-117-data models/truck1.3ds truck
gl-117-data models/truck2.3ds truck
glmark2-data models/horse.3ds horse
glmark2-data models/cat.3ds cat'

# Data directory of a package under root $2 ("" = the system), or nothing.
data_dir() {
    case "$1" in
    gl-117-data) cands="$2/usr/share/games/gl-117 $2/usr/share/gl-117" ;;
    glmark2-data) cands="$2/usr/share/glmark2" ;;
    *) cands="" ;;
    esac
    for d in $cands; do
        [ -d "$d/models" ] && { echo "$d"; return 0; }
    done
    return 1
}

download=0
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--convert-3ds)
    [ $# -eq 3 ] || { echo "fetch_meshes.sh: --convert-3ds IN.3ds OUT.obj" >&2; exit 2; }
    command -v python3 >/dev/null 2>&1 || { echo "fetch_meshes.sh: python3 is needed" >&2; exit 1; }
    convert_3ds "$2" "$3"; exit $? ;;
--download) download=1; shift ;;
esac
if [ $# -ne 1 ] || [ -z "$1" ] || [ "${1#-}" != "$1" ]; then
    echo "fetch_meshes.sh: usage: fetch_meshes.sh [--download] OUTDIR (see --help)" >&2
    exit 2
fi
out=$1
command -v python3 >/dev/null 2>&1 || { echo "fetch_meshes.sh: python3 is needed" >&2; exit 1; }
mkdir -p "$out" || { echo "fetch_meshes.sh: cannot create $out" >&2; exit 1; }
[ -w "$out" ] || { echo "fetch_meshes.sh: $out is not writable" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch_meshes.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

converted=0
: > "$out/SOURCES.txt"
for pkg in gl-117-data glmark2-data; do
    dir=$(data_dir "$pkg" "")
    if [ -z "$dir" ] && [ "$download" -eq 1 ]; then
        echo "fetch_meshes.sh: downloading $pkg with apt-get download" >&2
        if (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
            mkdir -p "$tmp/$pkg"
            for deb in "$tmp"/"$pkg"_*.deb; do
                dpkg-deb -x "$deb" "$tmp/$pkg" || true
            done
            dir=$(data_dir "$pkg" "$tmp/$pkg")
        fi
    fi
    if [ -z "$dir" ]; then
        echo "fetch_meshes.sh: $pkg is not installed (apt-get install $pkg, or pass --download); skipped" >&2
        continue
    fi
    echo "$TABLE" | while read -r p rel cls; do
        [ "$p" = "$pkg" ] || continue
        src="$dir/$rel"
        if [ ! -f "$src" ]; then
            echo "fetch_meshes.sh: $src missing in $pkg; skipped" >&2
            continue
        fi
        dst="$out/${cls}_${pkg%-data}_$(basename "$rel" .3ds).obj"
        if convert_3ds "$src" "$dst"; then
            echo "$(basename "$dst")  from $pkg:$rel  (licence: /usr/share/doc/$pkg/copyright)" >> "$out/SOURCES.txt"
            echo "$dst"
        else
            rm -f "$dst"
        fi
    done
done
converted=$(grep -c . "$out/SOURCES.txt")
if [ "$converted" -eq 0 ]; then
    echo "fetch_meshes.sh: no mesh converted (none of the packages is available)" >&2
    exit 1
fi
echo "fetch_meshes.sh: $converted meshes in $out (do not commit them)" >&2
exit 0
