"""Render the synthetic dataset's latents with Blender's Cycles, headless.

The optional "real renderer" of the DRMM project (issue 4).  It reads the
latents CSV that bin/synth writes (file,label,split,<latents>) and renders
every row again with Cycles, using the same scene conventions as the
built-in C renderer (src/render/synth.h): pinhole camera with a horizontal
field of view of 2*atan(0.5), object centred on its surface centroid and
scaled to the unit sphere, turned by tilt about its vertical axis and by
slant about the camera's horizontal axis, placed at (x, y, depth); a sun
light from (light_azimuth, light_elevation) of strength 1 - ambient plus a
uniform world light of strength ambient; a diffuse material of reflectance
albedo; the same background (level, gradient, value noise) composited
behind the object, and the same haze (the object's colour moved towards
the background by min(0.9, haze * max(0, depth - 2)); haze is read from
scene.txt next to the CSV, which bin/synth --png-dir writes: 0.15 for the
framed scene, 0 for clutter and studio and for directories written before
presets).  The studio scene (scene.txt: light_world 1, silhouette 1) is
followed too: the sun's direction is fixed in the world (light_azimuth
about the vertical, light_elevation above the horizon), the ambient light
comes from a sky whose radiance falls linearly from straight up to
sky_floor of it straight down (so a diffuse surface gets the C renderer's
ambient * (sky_floor + (1 - sky_floor) * (1 + n.up) / 2)), and the object is
scaled and moved so that its silhouette has the area of a unit disc at
distance depth and its centroid at (x, y): both measured, as the C
renderer does, on a 96x96 coverage probe at distance 4 (here in Python).
The room scene (scene.txt: backdrop, window_azimuth, window_elevation)
adds the backdrop to the composited background as synth.c does.
Parts written with `usemtl tone_F` get albedo * F.  Cycles adds what the C
renderer lacks: soft shadows, ambient occlusion and smooth sampling.

Meshes come from a mesh directory laid out as for `synth --mesh-dir`
(<class>*.obj, file k of a class in byte order = variant k).  For data
rendered with the procedural families, first write them with
`bin/synth --export-meshes DIR`: each class sub-type is then rendered with
its canonical proportions (shape_k = 0.5); the per-image shape_k latents
of the procedural renderer are not reproduced.

Rows are rendered grouped by mesh, one contiguous block per mesh, so Cycles
does not rebuild the scene for every image; the output files keep the
input's names and order in the CSV.

Usage (Blender 3.x):
  blender -b -P datasets/blender_render.py -- --csv DIR/latents.csv \\
      --mesh-dir MESHES --out OUT [--size WxH] [--samples 16] [--limit N]
  python3 datasets/blender_render.py --csv ... --mesh-dir ... --out ... --dry-run
      (checks the CSV and meshes and prints the plan; needs no Blender)
  python3 datasets/blender_render.py ... --background-only
      (writes only the composited backgrounds; used by tests/test_blender.c)

Writes OUT/<file>.png (8-bit gray) and OUT/latents.csv with the same
columns as the input, readable by `ingest --png-dir OUT --csv OUT/latents.csv`.
Exit status: 0 ok, 1 runtime failure, 2 usage error, 3 invalid input.
"""

import argparse
import csv
import math
import os
import struct
import sys
import tempfile
import zlib

CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck"]
NEEDED = ["file", "label", "split", "slant", "tilt", "x", "y", "depth",
          "light_azimuth", "light_elevation", "ambient", "albedo",
          "bg_level", "bg_angle", "bg_gradient", "bg_noise", "bg_pattern",
          "variant"]
TAN_HALF_FOV = 0.5


class InputError(Exception):
    pass


def parse_args(argv):
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    elif argv and argv[0].endswith(".py"):
        argv = argv[1:]
    p = argparse.ArgumentParser(prog="blender_render.py",
                                description="Render bin/synth latents with Cycles.")
    p.add_argument("--csv", required=True, help="latents CSV written by bin/synth")
    p.add_argument("--mesh-dir", required=True, help="directory of <class>*.obj meshes")
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--size", default=None,
                   help="WxH or N (default: the size of the PNGs next to the CSV, else 32)")
    p.add_argument("--samples", type=int, default=16, help="Cycles samples per pixel (default 16)")
    p.add_argument("--limit", type=int, default=0, help="render only the first N rows")
    p.add_argument("--haze", type=float, default=None,
                   help="haze per unit of depth beyond 2 (default: scene.txt next to the CSV, else 0)")
    p.add_argument("--dry-run", action="store_true", help="check inputs and print the plan only")
    p.add_argument("--background-only", action="store_true",
                   help="write only the backgrounds (no Blender needed; for tests)")
    a = p.parse_args(argv)
    if a.samples < 1 or a.samples > 4096:
        p.error("--samples must be 1..4096")
    if a.limit < 0:
        p.error("--limit must be >= 0")
    if a.haze is not None and not 0 <= a.haze <= 1:
        p.error("--haze must be 0..1")
    return a


def scene_haze(args):
    """The haze of the scene: --haze, else scene.txt next to the CSV, else 0."""
    if args.haze is not None:
        return args.haze
    path = os.path.join(os.path.dirname(args.csv), "scene.txt")
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "haze":
                    return float(value)
    except OSError:
        pass
    except ValueError:
        raise InputError("%s: bad haze line" % path)
    return 0.0


def scene_constants(args):
    """light_world, sky_floor, silhouette, max_silhouette_scale, backdrop,
    window_azimuth, window_elevation from scene.txt next to the CSV (0, 1,
    0, 3, 0, 0, 60 when absent: the framed and clutter scenes)."""
    out = {"light_world": 0.0, "sky_floor": 1.0, "silhouette": 0.0, "max_silhouette_scale": 3.0,
           "backdrop": 0.0, "window_azimuth": 0.0, "window_elevation": 60.0}
    path = os.path.join(os.path.dirname(args.csv), "scene.txt")
    try:
        with open(path) as f:
            for lineno, line in enumerate(f, start=1):
                key, _, value = line.strip().partition(" ")
                if key in out:
                    out[key] = float(value)
    except OSError:
        pass
    except ValueError:
        raise InputError("%s:%d: bad number" % (path, lineno))
    return out


def haze_share(haze, depth):
    """The share of the background in the object's colour (as synth.c)."""
    return min(0.9, max(0.0, haze * (depth - 2.0)))


def parse_size(text, csv_path, first_file):
    if text:
        try:
            if "x" in text:
                w, h = (int(t) for t in text.split("x"))
            else:
                w = h = int(text)
        except ValueError:
            raise InputError("--size '%s': expected WxH or N" % text)
        if not (8 <= w <= 1024 and 8 <= h <= 1024):
            raise InputError("--size '%s': width and height must be 8..1024" % text)
        return w, h
    png = os.path.join(os.path.dirname(csv_path), first_file)
    try:
        with open(png, "rb") as f:
            head = f.read(24)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", head[16:24])
    except OSError:
        pass
    return 32, 32


def read_rows(path):
    try:
        with open(path, newline="") as f:
            r = csv.reader(f)
            header = next(r, None)
            if not header:
                raise InputError("%s: empty CSV" % path)
            missing = [c for c in NEEDED if c not in header]
            if missing:
                raise InputError("%s: missing columns %s (write it with bin/synth --png-dir)"
                                 % (path, ", ".join(missing)))
            rows = []
            for lineno, fields in enumerate(r, start=2):
                if not fields:
                    continue
                if len(fields) != len(header):
                    raise InputError("%s:%d: %d fields, header has %d"
                                     % (path, lineno, len(fields), len(header)))
                row = dict(zip(header, fields))
                try:
                    lat = {k: float(row[k]) for k in NEEDED[3:]}
                    label = int(row["label"])
                except ValueError as e:
                    raise InputError("%s:%d: %s" % (path, lineno, e))
                if not 0 <= label < len(CLASSES):
                    raise InputError("%s:%d: label %d outside 0..9" % (path, lineno, label))
                if lat["depth"] < 1.5:
                    raise InputError("%s:%d: depth %g below 1.5" % (path, lineno, lat["depth"]))
                rows.append({"fields": fields, "file": row["file"], "label": label,
                             "variant": int(lat["variant"]), "lat": lat, "line": lineno})
            return header, rows
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))


def mesh_files(mesh_dir):
    try:
        names = sorted(n for n in os.listdir(mesh_dir) if n.lower().endswith(".obj"))
    except OSError as e:
        raise InputError("%s: cannot read mesh directory: %s" % (mesh_dir, e.strerror))
    by_class = {c: [] for c in range(len(CLASSES))}
    for n in sorted(names, key=lambda s: s.encode()):
        best = -1
        for c, cname in enumerate(CLASSES):
            if n.lower().startswith(cname) and (best < 0 or len(cname) > len(CLASSES[best])):
                best = c
        if best < 0:
            raise InputError("%s/%s: file name starts with no class name" % (mesh_dir, n))
        by_class[best].append(os.path.join(mesh_dir, n))
    return by_class


def load_obj(path):
    """Vertices, triangles and per-triangle tones of an OBJ file, normalised
    as obj.c does: area-weighted surface centroid at the origin, farthest
    vertex at 1."""
    verts, tris, tones = [], [], []
    tone = 1.0
    with open(path) as f:
        for lineno, line in enumerate(f, start=1):
            t = line.split()
            if not t:
                continue
            if t[0] == "usemtl" and len(t) > 1 and t[1].startswith("tone_"):
                try:
                    tone = float(t[1][5:])
                except ValueError:
                    tone = -1.0
                if not 0 < tone <= 1:
                    raise InputError("%s:%d: material '%s': the factor must be in (0, 1]" % (path, lineno, t[1]))
            elif t[0] == "v":
                try:
                    verts.append(tuple(float(v) for v in t[1:4]))
                except ValueError:
                    raise InputError("%s:%d: malformed vertex" % (path, lineno))
            elif t[0] == "f":
                idx = []
                for c in t[1:]:
                    try:
                        k = int(c.split("/")[0])
                    except ValueError:
                        raise InputError("%s:%d: malformed face corner '%s'" % (path, lineno, c))
                    k = k - 1 if k > 0 else len(verts) + k
                    if not 0 <= k < len(verts):
                        raise InputError("%s:%d: vertex index out of range" % (path, lineno))
                    idx.append(k)
                for i in range(1, len(idx) - 1):
                    tris.append((idx[0], idx[i], idx[i + 1]))
                    tones.append(tone)
    if not tris:
        raise InputError("%s: no faces" % path)
    cx = cy = cz = total = 0.0
    for a, b, c in tris:
        pa, pb, pc = verts[a], verts[b], verts[c]
        e1 = [pb[i] - pa[i] for i in range(3)]
        e2 = [pc[i] - pa[i] for i in range(3)]
        n = (e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0])
        area = 0.5 * math.sqrt(n[0] ** 2 + n[1] ** 2 + n[2] ** 2)
        cx += area * (pa[0] + pb[0] + pc[0]) / 3
        cy += area * (pa[1] + pb[1] + pc[1]) / 3
        cz += area * (pa[2] + pb[2] + pc[2]) / 3
        total += area
    if total <= 0:
        raise InputError("%s: degenerate mesh" % path)
    cx, cy, cz = cx / total, cy / total, cz / total
    r = max(math.sqrt((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) for x, y, z in verts)
    if r <= 0:
        raise InputError("%s: degenerate mesh" % path)
    return [((x - cx) / r, (y - cy) / r, (z - cz) / r) for x, y, z in verts], tris, tones


# ---- background: the same formula as background() in src/render/synth.c ----

M64 = (1 << 64) - 1


def lattice(pattern, ix, iy):
    z = ((pattern << 40) ^ ((ix & 0xffffffff) << 20) ^ (iy & 0xffffffff)) & M64
    z = (z + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    z ^= z >> 31
    return (z >> 40) * (2.0 / 16777216.0) - 1.0


def smooth_noise(pattern, u, v):
    ix, iy = math.floor(u), math.floor(v)
    fx, fy = u - ix, v - iy
    fx = fx * fx * (3 - 2 * fx)
    fy = fy * fy * (3 - 2 * fy)
    a, b = lattice(pattern, ix, iy), lattice(pattern, ix + 1, iy)
    c, d = lattice(pattern, ix, iy + 1), lattice(pattern, ix + 1, iy + 1)
    top = a + (b - a) * fx
    return top + ((c + (d - c) * fx) - top) * fy


def background(lat, w, h, sc):
    """The background of one image; sc: scene_constants (the backdrop)."""
    level, grad, amp = lat["bg_level"], lat["bg_gradient"], lat["bg_noise"]
    half = 0.5 * sc["backdrop"]
    R = rotation(lat)
    wa, we = math.radians(sc["window_azimuth"]), math.radians(sc["window_elevation"])
    win = (math.cos(we) * math.cos(wa), math.sin(we), -math.cos(we) * math.sin(wa))
    ang = math.radians(lat["bg_angle"])
    ca, sa = math.cos(ang), math.sin(ang)
    pattern = int(lat["bg_pattern"])
    cell = 4.0 / w
    out = []
    for j in range(h):
        for i in range(w):
            u, v = (i + 0.5) / w * 2 - 1, 1 - (j + 0.5) / h * 2
            val = level + 0.5 * grad * (u * ca + v * sa)
            if amp > 0:
                n1 = smooth_noise(pattern, (i + 0.5) * cell, (j + 0.5) * cell)
                n2 = smooth_noise(pattern ^ 0x5555, (i + 0.5) * cell * 2, (j + 0.5) * cell * 2)
                val += amp * (n1 + 0.5 * n2) / 1.5
            if half > 0:
                # the backdrop along the pixel's viewing direction, camera -> object frame
                dc = (u * TAN_HALF_FOV, v * TAN_HALF_FOV * h / w, 1.0)
                n = math.sqrt(dc[0] ** 2 + dc[1] ** 2 + 1)
                dot = sum((R[0][k] * dc[0] + R[1][k] * dc[1] + R[2][k]) * win[k] for k in range(3))
                val += half * (1 + dot / n)
            out.append(val)
    return out


def write_gray_png(path, w, h, pixels):
    """8-bit gray PNG from row-major bytes (top row first)."""
    raw = b"".join(b"\x00" + bytes(pixels[j * w:(j + 1) * w]) for j in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def rotation(lat):
    """Object -> C camera rotation (synth.c): tilt about the vertical, then
    slant about the camera's horizontal axis."""
    t, s = math.radians(lat["tilt"]), math.radians(lat["slant"])
    ct, st, cs, ss = math.cos(t), math.sin(t), math.cos(s), math.sin(s)
    return [[ct, 0, st], [-ss * st, cs, ss * ct], [-cs * st, -ss, cs * ct]]


PROBE, PROBE_DEPTH = 96, 4.0


def silhouette_placement(verts, tris, lat, max_scale):
    """(scale, off_x, off_y) as synth.c's silhouette mode: the coverage of
    the PROBE x PROBE samples with the object at distance PROBE_DEPTH, the
    scale that gives it the area of a unit disc (at most max_scale), and
    the silhouette's centroid in object units."""
    R = rotation(lat)
    f = 0.5 * PROBE / TAN_HALF_FOV
    scr = []
    for p in verts:
        X = sum(R[0][k] * p[k] for k in range(3))
        Y = sum(R[1][k] * p[k] for k in range(3))
        Z = sum(R[2][k] * p[k] for k in range(3)) + PROBE_DEPTH
        scr.append((0.5 * PROBE + f * X / Z, 0.5 * PROBE - f * Y / Z, Z))
    cover = bytearray(PROBE * PROBE)
    for a, b, c in tris:
        pa, pb, pc = scr[a], scr[b], scr[c]
        if min(pa[2], pb[2], pc[2]) < 0.05:
            continue
        area = (pb[0] - pa[0]) * (pc[1] - pa[1]) - (pc[0] - pa[0]) * (pb[1] - pa[1])
        if abs(area) < 1e-9:
            continue
        i0 = max(0, math.ceil(min(pa[0], pb[0], pc[0]) - 0.5))
        i1 = min(PROBE - 1, math.floor(max(pa[0], pb[0], pc[0]) - 0.5))
        j0 = max(0, math.ceil(min(pa[1], pb[1], pc[1]) - 0.5))
        j1 = min(PROBE - 1, math.floor(max(pa[1], pb[1], pc[1]) - 0.5))
        for j in range(j0, j1 + 1):
            py = j + 0.5
            for i in range(i0, i1 + 1):
                px = i + 0.5
                w0 = ((pc[0] - pb[0]) * (py - pb[1]) - (pc[1] - pb[1]) * (px - pb[0])) / area
                w1 = ((pa[0] - pc[0]) * (py - pc[1]) - (pa[1] - pc[1]) * (px - pc[0])) / area
                if w0 >= 0 and w1 >= 0 and 1 - w0 - w1 >= 0:
                    cover[j * PROBE + i] = 1
    n = su = sv = 0
    for j in range(PROBE):
        for i in range(PROBE):
            if cover[j * PROBE + i]:
                n += 1
                su += i + 0.5 - 0.5 * PROBE
                sv += 0.5 * PROBE - (j + 0.5)
    if n == 0:
        return max_scale, 0.0, 0.0
    disc = math.pi * (f / PROBE_DEPTH) ** 2
    return min(max_scale, math.sqrt(disc / n)), su / n * PROBE_DEPTH / f, sv / n * PROBE_DEPTH / f


def object_matrix(lat, w, h, place=(1.0, 0.0, 0.0)):
    """4x4 world matrix (Blender: camera at the origin looking down -Z).
    The C renderer's camera frame (x right, y up, z forward) maps to
    Blender's world by F = diag(1, 1, -1); the mesh is stored mirrored in z
    (M) so that F R M is a proper rotation.  place = (scale, off_x, off_y)
    of the silhouette mode: an object scaled by k at distance d images as
    the unit object at d / k, moved by the silhouette's centroid."""
    R = rotation(lat)
    FRM = [[R[i][0], R[i][1], -R[i][2]] for i in range(3)]
    FRM[2] = [-v for v in FRM[2]]
    k, ox, oy = place
    d = lat["depth"]
    T = [lat["x"] * d * TAN_HALF_FOV / k - ox, lat["y"] * d * TAN_HALF_FOV * h / w / k - oy, -d / k]
    return [FRM[0] + [T[0]], FRM[1] + [T[1]], FRM[2] + [T[2]], [0, 0, 0, 1]]


def plan(rows, by_class):
    blocks = {}
    for r in rows:
        files = by_class[r["label"]]
        if not files:
            raise InputError("no mesh for class %s in the mesh directory (write the procedural "
                             "ones with bin/synth --export-meshes DIR)" % CLASSES[r["label"]])
        if not 0 <= r["variant"] < len(files):
            raise InputError("line %d: variant %d but class %s has %d mesh files"
                             % (r["line"], r["variant"], CLASSES[r["label"]], len(files)))
        blocks.setdefault(files[r["variant"]], []).append(r)
    return blocks


def render(args, header, rows, blocks, w, h, haze, sc):
    import bpy
    from mathutils import Matrix, Vector

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = args.samples
    scene.cycles.use_denoising = False
    scene.cycles.max_bounces = 0          # direct light only, like the C renderer
    scene.cycles.pixel_filter_type = "BOX"
    scene.cycles.filter_width = 1.0
    scene.render.film_transparent = True
    scene.render.resolution_x, scene.render.resolution_y = w, h
    scene.render.resolution_percentage = 100
    scene.view_settings.view_transform = "Raw"
    scene.view_settings.look = "None"
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.render.image_settings.color_depth = "16"

    cam_data = bpy.data.cameras.new("camera")
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.angle = 2 * math.atan(TAN_HALF_FOV)
    cam_data.clip_start = 0.05
    cam = bpy.data.objects.new("camera", cam_data)
    scene.collection.objects.link(cam)
    scene.camera = cam

    sun_data = bpy.data.lights.new("sun", type="SUN")
    sun_data.angle = 0.0
    sun = bpy.data.objects.new("sun", sun_data)
    scene.collection.objects.link(sun)

    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    scene.world = world
    wnodes = world.node_tree.nodes
    bg_node = wnodes["Background"]
    # Sky: radiance a + b * (direction . up); a uniform world when b = 0.
    # A diffuse surface then gets a + (2/3) b (n . up) (the clamped cosine's
    # first-order weight), the C renderer's ambient term for
    # a = ambient (1 + floor) / 2, b = (3/4) ambient (1 - floor).
    coord = wnodes.new("ShaderNodeTexCoord")
    dot = wnodes.new("ShaderNodeVectorMath")
    dot.operation = "DOT_PRODUCT"
    world.node_tree.links.new(coord.outputs["Generated"], dot.inputs[0])
    sky = wnodes.new("ShaderNodeMath")
    sky.operation = "MULTIPLY_ADD"
    world.node_tree.links.new(dot.outputs["Value"], sky.inputs[0])
    world.node_tree.links.new(sky.outputs["Value"], bg_node.inputs["Color"])

    mats = {}

    def material(tone):
        if tone not in mats:
            mat = bpy.data.materials.new("tone_%g" % tone)
            mat.use_nodes = True
            nodes = mat.node_tree.nodes
            nodes.clear()
            diffuse = nodes.new("ShaderNodeBsdfDiffuse")
            out_node = nodes.new("ShaderNodeOutputMaterial")
            mat.node_tree.links.new(diffuse.outputs["BSDF"], out_node.inputs["Surface"])
            mats[tone] = (mat, diffuse)
        return mats[tone]

    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="drmm_blender_")
    done = 0
    for path, block in blocks.items():
        verts, tris, tones = load_obj(path)
        me = bpy.data.meshes.new(os.path.basename(path))
        me.from_pydata([(x, y, -z) for x, y, z in verts], [], tris)
        me.update()
        obj = bpy.data.objects.new("object", me)
        slots = {}
        for tone in tones:
            if tone not in slots:
                slots[tone] = len(slots)
                obj.data.materials.append(material(tone)[0])
        for poly, tone in zip(me.polygons, tones):
            poly.material_index = slots[tone]
        scene.collection.objects.link(obj)
        for r in block:
            lat = r["lat"]
            place = (silhouette_placement(verts, tris, lat, sc["max_silhouette_scale"])
                     if sc["silhouette"] else (1.0, 0.0, 0.0))
            obj.matrix_world = Matrix(object_matrix(lat, w, h, place))
            az, el = math.radians(lat["light_azimuth"]), math.radians(lat["light_elevation"])
            s_ = math.radians(lat["slant"])
            cs, ss = math.cos(s_), math.sin(s_)
            if sc["light_world"]:
                # As synth.c: towards the light in the world (right, up,
                # towards the viewer), turned by the slant; then C camera
                # (x, y, z forward) -> Blender (x, y, -z).
                lx, ly, lz = math.cos(el) * math.cos(az), math.sin(el), -math.cos(el) * math.sin(az)
                towards = Vector((lx, cs * ly + ss * lz, -(-ss * ly + cs * lz)))
                up = (0.0, cs, ss)
                floor = sc["sky_floor"]
            else:
                towards = Vector((math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)))
                up = (0.0, 0.0, 0.0)
                floor = 1.0
            sun.rotation_mode = "QUATERNION"
            sun.rotation_quaternion = towards.to_track_quat("Z", "Y")
            sun_data.energy = 1.0 - lat["ambient"]
            amb = lat["ambient"]
            dot.inputs[1].default_value = up
            sky.inputs[1].default_value = 0.75 * amb * (1.0 - floor)
            sky.inputs[2].default_value = amb * (1.0 + floor) / 2.0
            bg_node.inputs["Strength"].default_value = 1.0
            a = lat["albedo"]
            for tone, (_, diffuse) in mats.items():
                diffuse.inputs["Color"].default_value = (a * tone, a * tone, a * tone, 1.0)
            still = os.path.join(tmp, "frame.png")
            scene.render.filepath = still
            bpy.ops.render.render(write_still=True)
            img = bpy.data.images.load(still)
            px = list(img.pixels)
            bpy.data.images.remove(img)
            bg = background(lat, w, h, sc)
            hz = haze_share(haze, lat["depth"])
            gray = []
            for j in range(h):
                src = (h - 1 - j) * w  # Blender images start at the bottom row
                for i in range(w):
                    k = 4 * (src + i)
                    alpha = px[k + 3]
                    obj_v = px[k] + hz * (bg[j * w + i] - px[k])
                    v = alpha * obj_v + (1 - alpha) * bg[j * w + i]
                    gray.append(int(min(max(v, 0.0), 1.0) * 255.0 + 0.5))
            write_gray_png(os.path.join(args.out, r["file"]), w, h, gray)
            done += 1
            if done % 100 == 0:
                print("blender_render: %d / %d" % (done, len(rows)), file=sys.stderr)
        scene.collection.objects.unlink(obj)
        bpy.data.objects.remove(obj)
        bpy.data.meshes.remove(me)
    with open(os.path.join(args.out, "latents.csv"), "w", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(header)
        for r in rows:
            wr.writerow(r["fields"])
    return done


def main(argv):
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    try:
        header, rows = read_rows(args.csv)
        if args.limit:
            rows = rows[:args.limit]
        if not rows:
            raise InputError("%s: no rows" % args.csv)
        w, h = parse_size(args.size, args.csv, rows[0]["file"])
        by_class = mesh_files(args.mesh_dir)
        blocks = plan(rows, by_class)
        for path in blocks:
            load_obj(path)  # fail early on a malformed mesh
        haze = scene_haze(args)
        sc = scene_constants(args)
    except InputError as e:
        print("blender_render: %s" % e, file=sys.stderr)
        return 3
    print("blender_render: %d images of %dx%d in %d mesh blocks (haze %g)" % (len(rows), w, h, len(blocks), haze))
    if args.dry_run:
        for path, block in blocks.items():
            print("  %s: %d images" % (os.path.basename(path), len(block)))
        return 0
    if args.background_only:
        try:
            os.makedirs(args.out, exist_ok=True)
            for r in rows:
                bg = background(r["lat"], w, h, sc)
                write_gray_png(os.path.join(args.out, r["file"]), w, h,
                               [int(min(max(v, 0.0), 1.0) * 255.0 + 0.5) for v in bg])
        except OSError as e:
            print("blender_render: %s" % e, file=sys.stderr)
            return 1
        print("blender_render: wrote %d backgrounds" % len(rows))
        return 0
    try:
        import bpy  # noqa: F401
    except ImportError:
        print("blender_render: run inside Blender: blender -b -P datasets/blender_render.py -- ARGS "
              "(or use --dry-run)", file=sys.stderr)
        return 2
    try:
        n = render(args, header, rows, blocks, w, h, haze, sc)
    except OSError as e:
        print("blender_render: %s" % e, file=sys.stderr)
        return 1
    print("blender_render: wrote %d images and %s" % (n, os.path.join(args.out, "latents.csv")))
    return 0


if __name__ == "__main__":
    rc = main(sys.argv)
    if "bpy" in sys.modules:
        # Inside Blender, sys.exit would be caught; os._exit ends the process.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sys.exit(rc)
