#!/usr/bin/env python3
"""Independent checks for the Swift QRCode encoder, run by its tests.

Every command prints JSON on standard output (one object, or one object per line for batch commands)
and exits 0; a failed check exits 1 with the reason on standard error, and a missing Python module
exits 3 with the pip command that installs it.

Commands:
  check                                  report the versions of the modules the checks use
  decode FILE...                         decode PNG files with zxing-cpp
  png FILE MODULE_SIZE QUIET_ZONE        verify PNG structure (CRCs, zlib, Adler-32) and read the modules
  svg FILE MODULE_SIZE QUIET_ZONE        verify the SVG document, read the modules, decode a rendering
  matrix HEX LEVEL VERSION MASK          the module matrix segno makes (MASK 0-7 or "auto")
  matrices                               the same for JSON lines on standard input
  scores                                 penalty scores for matrices on standard input: segno's N1..N4
                                         and N3 counted at every occurrence
"""

import importlib
import json
import struct
import sys
import xml.etree.ElementTree as ElementTree
import zlib

REQUIREMENTS = "scripts/test.sh installs them (pip install -r scripts/requirements-test.txt: zxing-cpp, segno, pillow)"


def need(module):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        sys.stderr.write(f"qr_check.py: Python module '{module}' is missing ({error}); {REQUIREMENTS}\n")
        sys.exit(3)


def fail(message):
    sys.stderr.write(f"qr_check.py: {message}\n")
    sys.exit(1)


def rows_of(matrix):
    return ["".join("1" if module else "0" for module in row) for row in matrix]


# -- decoding -------------------------------------------------------------------------------------------

def decode_image(image):
    zxingcpp = need("zxingcpp")
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    if not found:
        return {"decoded": False}
    barcode = found[0]
    return {
        "decoded": True,
        "count": len(found),
        "hex": barcode.bytes.hex(),
        "text": barcode.text,
        "ec_level": barcode.ec_level,
        "extra": {str(key): str(value) for key, value in (barcode.extra or {}).items()},
    }


def command_decode(files):
    image_module = need("PIL.Image")
    for path in files:
        with image_module.open(path) as image:
            image.load()
            result = decode_image(image)
        result["file"] = path
        print(json.dumps(result))


# -- PNG ------------------------------------------------------------------------------------------------

def command_png(path, module_size, quiet_zone):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("bad PNG signature")
    offset, chunks = 8, []
    while offset < len(data):
        if offset + 12 > len(data):
            fail("truncated chunk")
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        if zlib.crc32(kind + body) != crc:
            fail(f"CRC mismatch in chunk {kind!r}")
        chunks.append((kind.decode("ascii"), body))
        offset += 12 + length
    kinds = [kind for kind, _ in chunks]
    if kinds[0] != "IHDR" or kinds[-1] != "IEND" or "IDAT" not in kinds:
        fail(f"unexpected chunk order {kinds}")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    compressed = b"".join(body for kind, body in chunks if kind == "IDAT")
    raw = zlib.decompress(compressed)  # checks the zlib header and the Adler-32 trailer
    if zlib.adler32(raw) != struct.unpack(">I", compressed[-4:])[0]:
        fail("Adler-32 mismatch")
    row_bytes = 1 + (width * depth + 7) // 8
    if len(raw) != height * row_bytes:
        fail(f"image data is {len(raw)} bytes, expected {height * row_bytes}")
    if any(raw[row * row_bytes] != 0 for row in range(height)):
        fail("a scanline uses a filter other than 0")

    image_module = need("PIL.Image")
    with image_module.open(path) as image:
        image.load()
        grey = image.convert("L")
    across = width // module_size
    size = across - 2 * quiet_zone
    pixels = grey.load()
    quiet_dark = sum(
        1 for y in range(height) for x in range(width)
        if (x < quiet_zone * module_size or x >= (across - quiet_zone) * module_size
            or y < quiet_zone * module_size or y >= (across - quiet_zone) * module_size)
        and pixels[x, y] < 128)
    # Every pixel of a module must agree with the module's colour.
    inconsistent = 0
    matrix = []
    for row in range(size):
        line = []
        for column in range(size):
            x0, y0 = (column + quiet_zone) * module_size, (row + quiet_zone) * module_size
            values = {pixels[x, y] < 128 for y in range(y0, y0 + module_size) for x in range(x0, x0 + module_size)}
            inconsistent += len(values) > 1
            line.append(values.pop())
        matrix.append(line)
    result = {
        "chunks": kinds, "width": width, "height": height, "bit_depth": depth, "colour_type": colour,
        "compression": compression, "filter": filtering, "interlace": interlace,
        "zlib_header": compressed[:2].hex(), "quiet_zone_dark_pixels": quiet_dark,
        "inconsistent_modules": inconsistent, "matrix": rows_of(matrix),
    }
    result.update(decode_image(grey))
    print(json.dumps(result))


# -- SVG ------------------------------------------------------------------------------------------------

def command_svg(path, module_size, quiet_zone):
    namespace = "{http://www.w3.org/2000/svg}"
    root = ElementTree.parse(path).getroot()  # raises (exit 1 via traceback) when not well-formed
    if root.tag != namespace + "svg":
        fail(f"root element is {root.tag}")
    view = [int(value) for value in root.get("viewBox").split()]
    across = view[2]
    if view[:2] != [0, 0] or view[2] != view[3]:
        fail(f"unexpected viewBox {view}")
    if int(root.get("width")) != across * module_size or int(root.get("height")) != across * module_size:
        fail("width/height do not match viewBox × module size")
    paths = root.findall(namespace + "path")
    rects = root.findall(namespace + "rect")
    if len(paths) != 1 or len(rects) != 1:
        fail(f"expected one rect and one path, found {len(rects)} and {len(paths)}")
    if rects[0].get("fill") not in ("#fff", "#ffffff", "white"):
        fail("background is not white")
    if int(rects[0].get("width")) != across or int(rects[0].get("height")) != across:
        fail("background does not cover the viewBox")
    rendering = root.get("shape-rendering") or paths[0].get("shape-rendering")
    if rendering != "crispEdges":
        fail("shape-rendering is not crispEdges")

    # Interpret the path. The encoder emits one subpath per horizontal run of dark modules,
    # "M<x> <y>h<w>v1h-<w>z"; anything else is a failure.
    dark = set()
    data = paths[0].get("d")
    for subpath in data.split("M")[1:]:
        subpath = subpath.strip()
        try:
            position, rest = subpath.split("h", 1)
            x, y = (int(value) for value in position.split())
            width, rest = rest.split("v", 1)
            width = int(width)
            height, rest = rest.split("h", 1)
            back, closing = rest.split("z", 1)
        except ValueError:
            fail(f"unexpected path data {subpath!r}")
        if int(height) != 1 or int(back) != -width or width <= 0 or closing.strip():
            fail(f"subpath {subpath!r} is not a one-module-high rectangle")
        for column in range(x, x + width):
            if (column, y) in dark:
                fail("overlapping rectangles")
            dark.add((column, y))
    size = across - 2 * quiet_zone
    outside = [(x, y) for x, y in dark if not (quiet_zone <= x < across - quiet_zone and quiet_zone <= y < across - quiet_zone)]
    matrix = [[(column + quiet_zone, row + quiet_zone) in dark for column in range(size)] for row in range(size)]

    image_module = need("PIL.Image")
    scale = 4
    image = image_module.new("L", (across * scale, across * scale), 255)
    for x, y in dark:
        image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    result = {"across": across, "quiet_zone_dark_modules": len(outside), "matrix": rows_of(matrix)}
    result.update(decode_image(image))
    print(json.dumps(result))


# -- segno ----------------------------------------------------------------------------------------------

def segno_matrix(hex_bytes, level, version, mask):
    segno = need("segno")
    code = segno.make_qr(
        bytes.fromhex(hex_bytes), error=level.lower(), version=int(version),
        mask=None if mask == "auto" else int(mask), mode="byte", boost_error=False)
    return {"version": code.version, "error": code.error, "mask": code.mask, "matrix": rows_of(code.matrix)}


def command_matrices():
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            print(json.dumps(segno_matrix(request["hex"], request["level"], request["version"], request["mask"])))


def finder_like_every_occurrence(matrix):
    """N3 counting every start position of dark-light-dark-dark-dark-light-dark that has four light
    modules before or after it (beyond the edge counts as light), once per position, overlaps included.

    segno's scan resumes after the end of a counted occurrence, so it misses an occurrence that begins on
    the last dark module of the previous one; this count is the one the Swift encoder implements.
    """
    size = len(matrix)
    lines = [list(row) for row in matrix] + [[matrix[y][x] for y in range(size)] for x in range(size)]
    pattern = [1, 0, 1, 1, 1, 0, 1]
    score = 0
    for line in lines:
        for start in range(size - 6):
            if line[start:start + 7] != pattern:
                continue
            before = all(line[i] == 0 for i in range(max(start - 4, 0), start))
            after = all(line[i] == 0 for i in range(start + 7, min(start + 11, size)))
            if before or after:
                score += 40
    return score


def command_scores():
    need("segno")
    from segno import encoder  # mask_scores is segno's implementation of ISO/IEC 18004 table 11
    for line in sys.stdin:
        if line.strip():
            rows = json.loads(line)["matrix"]
            matrix = tuple(bytearray(int(module) for module in row) for row in rows)
            print(json.dumps({
                "segno": list(encoder.mask_scores(matrix, len(rows), len(rows))),
                "n3_every_occurrence": finder_like_every_occurrence(matrix),
            }))


def command_check():
    versions = {}
    for module, distribution in (("zxingcpp", "zxing-cpp"), ("segno", "segno"), ("PIL", "pillow")):
        need(module)
        from importlib.metadata import version
        versions[distribution] = version(distribution)
    print(json.dumps(versions))


def main(arguments):
    if not arguments:
        fail("no command; see the module docstring")
    command, rest = arguments[0], arguments[1:]
    if command == "check" and not rest:
        command_check()
    elif command == "decode" and rest:
        command_decode(rest)
    elif command == "png" and len(rest) == 3:
        command_png(rest[0], int(rest[1]), int(rest[2]))
    elif command == "svg" and len(rest) == 3:
        command_svg(rest[0], int(rest[1]), int(rest[2]))
    elif command == "matrix" and len(rest) == 4:
        print(json.dumps(segno_matrix(*rest)))
    elif command == "matrices" and not rest:
        command_matrices()
    elif command == "scores" and not rest:
        command_scores()
    else:
        fail(f"unknown command or wrong arguments: {' '.join(arguments)}")


if __name__ == "__main__":
    main(sys.argv[1:])
