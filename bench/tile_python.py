#!/usr/bin/python3
"""Stage 1 (tiling) as a pydicom + OpenCV + numpy pipeline, for the side-by-side benchmark
`tile-vs-python` (bench/tile.ts). It does, per image, the work of lib/tiling/process.ts
processImage with the default "milpf" preprocessing (lib/preprocess/preprocess.ts):

  decode          pydicom dcmread + pixel_array (uncompressed: numpy view of the bytes;
                  JPEG 2000: pydicom's Pillow handler, Pillow's OpenJPEG decoder)
  presentation    rescale, padding mask (Pixel Padding Value, else the dominant border value
                  when it is the image's min or max), VOI window LINEAR (the file's first
                  window; min-max when it has none), MONOCHROME1 inverted, padding -> 0, as
                  uint16 = round(v * 65535); plus min-max values of the same for the mask
  mask            on a copy with a longest side of 512 (cv2.resize INTER_AREA): Gaussian blur
                  (kernel ~size/100, sigma as OpenCV derives it), three-class Otsu on a
                  256-bin histogram (lower threshold), erosion and dilation by a square of
                  radius round(size/500), largest 8-connected component, holes filled
  orientation     left/right column sums of the small copy, confirming the laterality tag
  crop            the mask's box in original pixels (rounded outwards), flipped for R,
                  scaled so that the crop's max is 65535, padded to a square (breast on the
                  left, centred vertically)
  working image   cv2.resize of the square to 4096 x 4096 (INTER_LINEAR when enlarging,
                  INTER_AREA when shrinking)
  working mask    the small mask sampled bilinearly at every working pixel (cv2.warpAffine),
                  >= 0.5
  global view     cv2.resize of the working image to 518 x 518 (INTER_AREA)
  tiles           518 px grid, overlap 0 (last tile aligned to the far edge), kept when the
                  mask fraction is > 0 (cv2.integral); only their coordinates are kept, as ours
  writes          working image and global view as 16-bit PNG, the mask as 8-bit PNG (0/255),
                  cv2.imwrite with OpenCV's default PNG settings; one JSON record per image
                  (transform and tiles) and a manifest at the end

What it does not do that ours does: hash the source and outputs (ours: sha256 for the resume
records), write atomically with fsync, take a lock, write the stage record. Those are part of
our time, not of this one.

Processes: `--workers N` worker processes (multiprocessing, fork), each taking the next
file. OpenCV's own threads are left at their default (cv2.getNumThreads() is printed).

Runs on Debian's packages (bookworm): python3-pydicom (2.3.1), python3-opencv (4.6.0),
python3-numpy, python3-pil (9.4, built with libopenjp2 2.5: `PIL.features.check("jpg_2000")`).
pydicom 2.3.1 decodes JPEG 2000 through Pillow when no gdcm/pylibjpeg is installed (none is
here); nothing extra was installed for it.

Usage: /usr/bin/python3 bench/tile_python.py --out DIR --workers N FILE.dcm ...
Prints one JSON line: images, seconds (after the imports), importSeconds, secondsWithImports,
imagesPerS (after the imports), per-step seconds summed over images (each step's time in its
worker process).
"""

import time

T_START = time.perf_counter()  # before the imports below (numpy, OpenCV, pydicom: ~0.3-0.6 s)

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pydicom  # noqa: E402

WORKING = 4096
GLOBAL = 518
TILE = 518
MASK_MAX_SIDE = 512


def padding_mask(px, ds):
    """1 where a stored value is padding (see lib/dicom/voi.ts paddingMask)."""
    ppv = ds.get("PixelPaddingValue")
    if ppv is not None:
        lo = int(ppv)
        hi = int(ds.get("PixelPaddingRangeLimit", lo))
        if hi < lo:
            lo, hi = hi, lo
    else:
        border = np.concatenate([px[0], px[-1], px[1:-1, 0], px[1:-1, -1]])
        vals, counts = np.unique(border, return_counts=True)
        k = int(np.argmax(counts))
        if counts[k] * 2 < border.size:
            return None
        v = int(vals[k])
        if v != int(px.min()) and v != int(px.max()):
            return None
        lo = hi = v
    return (px >= lo) & (px <= hi)


def to_u16(v):
    return np.rint(np.clip(v, 0.0, 1.0) * 65535.0).astype(np.uint16)


def presentation(ds, px):
    """Presentation values (window) and min-max values, both uint16 (value / 65535)."""
    slope = float(ds.get("RescaleSlope", 1))
    intercept = float(ds.get("RescaleIntercept", 0))
    x = px.astype(np.float32)
    if slope != 1 or intercept != 0:
        x = x * slope + intercept
    pad = padding_mask(px, ds)
    inside = x if pad is None else x[~pad]
    lo, hi = (float(inside.min()), float(inside.max())) if inside.size else (0.0, 0.0)
    mm = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    wc, ww = ds.get("WindowCenter"), ds.get("WindowWidth")
    if wc is not None and ww is not None:
        c = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
        w = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
        # LINEAR (PS3.3 C.11.2.1.2.1)
        y = np.clip((x - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)
    else:
        y = mm
    if ds.PhotometricInterpretation == "MONOCHROME1":
        y = 1.0 - y
        mm = 1.0 - mm
    y = to_u16(y)
    mm = to_u16(mm)
    if pad is not None:
        y[pad] = 0
        mm[pad] = 0
    return y, mm


def otsu3_lower(hist):
    """Lower threshold (bin index) of three-class Otsu on a histogram."""
    bins = hist.size
    P = np.concatenate([[0.0], np.cumsum(hist)])
    S = np.concatenate([[0.0], np.cumsum(np.arange(bins) * hist)])
    best, bt = -np.inf, 0
    for t1 in range(1, bins - 1):
        w0 = P[t1]
        if w0 <= 0:
            continue
        a = S[t1] ** 2 / w0
        t2 = np.arange(t1 + 1, bins)
        wb = P[t2] - P[t1]
        wc = P[bins] - P[t2]
        ok = (wb > 0) & (wc > 0)
        if not ok.any():
            continue
        sb = S[t2] - S[t1]
        sc = S[bins] - S[t2]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = a + np.where(ok, sb * sb / wb + sc * sc / wc, -np.inf)
        k = int(np.argmax(v))
        if v[k] > best:
            best, bt = v[k], t1
    return bt


def breast_mask(low):
    h, w = low.shape
    size = max(w, h)
    k = max(3, 2 * int(size / 100 / 2) + 1)
    sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8
    blurred = cv2.GaussianBlur(low.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    lo, hi = float(blurred.min()), float(blurred.max())
    hist = np.histogram(blurred, bins=256, range=(lo, hi))[0].astype(np.float64)
    thr = lo + otsu3_lower(hist) * (hi - lo) / 256
    m = ((blurred >= thr) & (blurred > 0)).astype(np.uint8)
    r = max(0, round(size / 500))
    if r > 0:
        kern = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
        m = cv2.erode(m, kern, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        m = cv2.dilate(m, kern, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    m = (labels == best).astype(np.uint8)
    # holes: background not 4-connected to the border becomes foreground
    ff = np.zeros((h + 2, w + 2), np.uint8)
    ff[1:-1, 1:-1] = m
    cv2.floodFill(ff, None, (0, 0), 2, flags=4)
    return (ff[1:-1, 1:-1] != 2).astype(np.uint8)


def grid_positions(size, tile):
    if size <= tile:
        return [0]
    out = list(range(0, size - tile, tile))
    out.append(size - tile)
    return out


def laterality(ds):
    v = ds.get("ImageLaterality") or ds.get("Laterality")
    v = str(v).upper() if v else None
    return v if v in ("L", "R") else None


def process(args):
    path, out_dir = args
    T = {}
    t = time.perf_counter()

    def lap(k):
        nonlocal t
        n = time.perf_counter()
        T[k] = n - t
        t = n

    ds = pydicom.dcmread(path)
    px = ds.pixel_array
    lap("decode")
    pres, mm = presentation(ds, px)
    lap("presentation")
    H, W = pres.shape
    f = min(1.0, MASK_MAX_SIDE / max(W, H))
    lw, lh = max(8, round(W * f)), max(8, round(H * f))
    low = cv2.resize(mm, (lw, lh), interpolation=cv2.INTER_AREA)
    # orientation: column sums of the small copy (the middle column of an odd width counts for neither)
    cols = low.sum(axis=0, dtype=np.float64)
    left, right = cols[: lw // 2].sum(), cols[(lw + 1) // 2 :].sum()
    bal = (left - right) / (left + right) if left + right > 0 else 0.0
    from_sums = (bal < 0) if abs(bal) >= 0.1 else None
    lat = laterality(ds)
    from_tag = None if lat is None else lat == "R"
    flip = from_sums if from_tag is None or (from_sums is not None and from_sums != from_tag) else from_tag
    flip = bool(flip) if flip is not None else False
    low_mask = breast_mask(low)
    if low_mask is None:
        raise RuntimeError(f"{path}: no breast found")
    ys, xs = np.nonzero(low_mask)
    bx0, bx1, by0, by1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    lap("mask")
    sx, sy = W / lw, H / lh
    ox0, ox1 = max(0, int(np.floor(bx0 * sx))), min(W, int(np.ceil(bx1 * sx)))
    oy0, oy1 = max(0, int(np.floor(by0 * sy))), min(H, int(np.ceil(by1 * sy)))
    crop = pres[oy0:oy1, ox0:ox1]
    if flip:
        crop = crop[:, ::-1]
    cw, ch = crop.shape[1], crop.shape[0]
    S = max(cw, ch)
    pad_y = (S - ch) // 2
    mx = int(crop.max())
    if mx == 0:
        raise RuntimeError(f"{path}: the breast region is all zero")
    square = np.zeros((S, S), np.uint16)
    square[pad_y : pad_y + ch, :cw] = np.minimum(np.rint(crop.astype(np.float32) * (65535.0 / mx)), 65535).astype(np.uint16)
    lap("crop")
    working = cv2.resize(square, (WORKING, WORKING), interpolation=cv2.INTER_LINEAR if S < WORKING else cv2.INTER_AREA)
    lap("resize")
    # working pixel (xw, yw) -> small-copy coordinates (pixel centres), as lib/preprocess sampleMask
    scale = WORKING / S
    cx0 = (W - ox1) if flip else ox0
    inv = 1.0 / scale
    # xf = (xw + 0.5) * inv + cx0 (flipped frame); xOrig = W - xf when flipped; xl = xOrig / sx - 0.5
    if flip:
        ax, bx = -inv / sx, (W - (0.5 * inv + cx0)) / sx - 0.5
    else:
        ax, bx = inv / sx, (0.5 * inv + cx0) / sx - 0.5
    ay, by = inv / sy, (0.5 * inv - pad_y + oy0) / sy - 0.5
    M = np.array([[ax, 0, bx], [0, ay, by]], np.float64)
    wmask = cv2.warpAffine(low_mask.astype(np.float32), M, (WORKING, WORKING), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    wmask = (wmask >= 0.5).astype(np.uint8)
    # outside the crop's rectangle in the working frame: 0
    wx1 = int(np.ceil(cw * scale))
    wy0, wy1 = int(np.floor(pad_y * scale)), int(np.ceil((pad_y + ch) * scale))
    wmask[:, wx1:] = 0
    wmask[:wy0] = 0
    wmask[wy1:] = 0
    lap("workingMask")
    glob = cv2.resize(working, (GLOBAL, GLOBAL), interpolation=cv2.INTER_AREA)
    lap("global")
    ii = cv2.integral(wmask, sdepth=cv2.CV_32S)
    tiles = []
    for y in grid_positions(WORKING, TILE):
        for x in grid_positions(WORKING, TILE):
            s = ii[y + TILE, x + TILE] - ii[y, x + TILE] - ii[y + TILE, x] + ii[y, x]
            if s > 0:
                tiles.append({"xPx": x, "yPx": y, "sizePx": TILE, "tissueFraction": float(s) / (TILE * TILE)})
    lap("tiles")
    stem = os.path.splitext(os.path.basename(path))[0]
    files = {}
    for sub, img in (("working", working), ("global", glob), ("mask", wmask * np.uint8(255))):
        files[sub] = os.path.join(sub, stem + ".png")
        if not cv2.imwrite(os.path.join(out_dir, files[sub]), img):
            raise RuntimeError(f"cannot write {files[sub]}")
    lap("pngWrite")
    rec = {
        "imageId": stem,
        "transform": {"flipped": flip, "crop": {"x0": cx0, "y0": oy0, "x1": cx0 + cw, "y1": oy1}, "squareSizePx": S, "padXPx": 0, "padYPx": pad_y, "workingSizePx": WORKING, "scale": scale},
        "workingImageFile": files["working"],
        "globalViewFile": files["global"],
        "maskFile": files["mask"],
        "tiles": tiles,
    }
    with open(os.path.join(out_dir, "done", stem + ".json"), "w") as fh:
        json.dump(rec, fh)
    lap("record")
    return rec, T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    for sub in ("working", "global", "mask", "done"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    t0 = time.perf_counter()
    steps = {}
    images = []
    with mp.get_context("fork").Pool(a.workers) as pool:
        for rec, T in pool.imap_unordered(process, [(f, a.out) for f in a.files], chunksize=1):
            images.append(rec)
            for k, v in T.items():
                steps[k] = steps.get(k, 0.0) + v
    with open(os.path.join(a.out, "manifest.json"), "w") as fh:
        json.dump({"images": images}, fh)
    end = time.perf_counter()
    sec = end - t0
    print(json.dumps({
        "images": len(images),
        "seconds": sec,
        "importSeconds": t0 - T_START,
        "secondsWithImports": end - T_START,
        "imagesPerS": len(images) / sec,
        "workers": a.workers,
        "tiles": sum(len(r["tiles"]) for r in images),
        "stepSeconds": {k: round(v, 4) for k, v in steps.items()},
        "versions": {"python": sys.version.split()[0], "pydicom": pydicom.__version__, "cv2": cv2.__version__, "numpy": np.__version__, "cv2Threads": cv2.getNumThreads()},
    }))


if __name__ == "__main__":
    main()
