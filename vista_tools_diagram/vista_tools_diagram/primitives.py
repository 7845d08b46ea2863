"""Diagram to primitives by classical vision: OCR for the letter labels and the numbers, Hough transforms for
circles and line segments, labels bound to the nearest junction (segment end, crossing, dot or circle centre),
and incidences read back off the ink: which labelled points a drawn segment joins, which lie on a circle.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from vista.weights import load_once

POINT_LABEL = re.compile(r"^[A-Z]'?$")
NUMBER_LABEL = re.compile(r"^\d+(?:\.\d+)?°?$")
_ocr_lock = threading.Lock()  # one onnxruntime session shared by the threads of the episode runner


@dataclass
class Primitives:
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    segments: list[tuple[float, float, float, float]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # (cx, cy, r) in pixels
    labels: list[dict] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)  # labelled points joined by one drawn line, in order
    circle_points: dict[int, list[str]] = field(default_factory=dict)
    circle_centres: dict[int, str] = field(default_factory=dict)
    lengths: dict[tuple[str, str], str] = field(default_factory=dict)  # numbers printed beside a segment
    angles: dict[tuple[str, str, str], str] = field(default_factory=dict)  # "40°" printed inside an angle
    incidences: list[str] = field(default_factory=list)


def _ocr():
    from rapidocr import RapidOCR

    # Labels are upright and small: no angle classifier, and no upscaling to the default 736 px (3x slower).
    return RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False, "Det.limit_side_len": 480})


def read_text(image: np.ndarray) -> list[dict]:
    engine = load_once(("vista_tools_diagram", "rapidocr"), _ocr)
    with _ocr_lock:
        result = engine(image)
    if result.boxes is None:
        return []
    out = []
    for box, text, score in zip(result.boxes, result.txts, result.scores):
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        out.append({"text": text.strip(), "bbox": [float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))],
                    "score": float(score)})
    return out


def extract(image: Image.Image, centre_names: tuple[str, ...] = ()) -> Primitives:
    """Primitives of a diagram. `centre_names`: names the problem text gives circles (circle O), used for a circle
    whose centre carries no legible label."""
    import cv2

    rgb = np.asarray(image.convert("RGB"))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    size = min(gray.shape)
    ink = (gray < 170).astype(np.uint8)
    prims = Primitives()
    text_mask = np.zeros_like(ink)
    for item in read_text(rgb):
        x0, y0, x1, y1 = (int(round(v)) for v in item["bbox"])
        text = item["text"].replace(" ", "")
        text = "O" if text == "0" else text  # a lone 0 in a figure is the centre O, never a length
        kind = "point" if POINT_LABEL.match(text) else "number" if NUMBER_LABEL.match(text) else "other"
        prims.labels.append({**item, "text": text, "kind": kind})
        text_mask[max(y0 - 2, 0):y1 + 3, max(x0 - 2, 0):x1 + 3] = 1
    lines_ink = ink * (1 - text_mask)
    prims.circles = _circles(gray, lines_ink, size)
    no_circles = lines_ink.copy()
    for cx, cy, r in prims.circles:
        cv2.circle(no_circles, (int(round(cx)), int(round(cy))), int(round(r)), 0, thickness=7)
    prims.segments = _segments(no_circles, size)
    _bind_labels(prims, lines_ink, size)
    spare = [n for n in centre_names if n not in prims.points]
    for cx, cy, _ in prims.circles:
        if spare and all(math.dist((cx, cy), p) > size * 0.02 for p in prims.points.values()):
            prims.points[spare.pop(0)] = (round(cx, 1), round(cy, 1))
    _incidences(prims, lines_ink, text_mask, size)
    return prims


def _circles(gray: np.ndarray, ink: np.ndarray, size: int) -> list[tuple[float, float, float]]:
    import cv2

    blurred = cv2.GaussianBlur(gray, (5, 5), 1.5)
    found = cv2.HoughCircles(blurred, cv2.HOUGH_GRADIENT, dp=1, minDist=size / 8, param1=120, param2=40,
                             minRadius=int(size * 0.12), maxRadius=int(size * 0.6))
    circles: list[tuple[float, float, float]] = []
    if found is None:
        return circles
    for cx, cy, r in np.asarray(found, dtype=float).reshape(-1, 3)[:, :3]:
        if _ring_coverage(ink, cx, cy, r) >= 0.8 and all(
                math.hypot(cx - x, cy - y) > 5 or abs(r - q) > 5 for x, y, q in circles):
            circles.append((float(cx), float(cy), float(r)))
    return circles


def _ring_coverage(ink: np.ndarray, cx: float, cy: float, r: float) -> float:
    dilated = _dilate(ink, 3)
    hits = total = 0
    for t in np.linspace(0, 2 * math.pi, 360, endpoint=False):
        x, y = int(round(cx + r * math.cos(t))), int(round(cy + r * math.sin(t)))
        if 0 <= y < ink.shape[0] and 0 <= x < ink.shape[1]:
            total += 1
            hits += int(dilated[y, x] > 0)
    return hits / total if total else 0.0


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask, kernel)


def _segments(ink: np.ndarray, size: int) -> list[tuple[float, float, float, float]]:
    import cv2

    raw = cv2.HoughLinesP(ink * 255, rho=1, theta=np.pi / 360, threshold=int(size * 0.06),
                          minLineLength=int(size * 0.07), maxLineGap=4)
    if raw is None:
        return []
    merged: list[list[float]] = []
    for x0, y0, x1, y1 in np.asarray(raw, dtype=float).reshape(-1, 4):
        for seg in merged:
            if _same_line(seg, (x0, y0, x1, y1)):
                seg[:] = _union(seg, (x0, y0, x1, y1))
                break
        else:
            merged.append([x0, y0, x1, y1])
    return [tuple(s) for s in merged if math.hypot(s[2] - s[0], s[3] - s[1]) >= size * 0.07]


def _same_line(a, b, angle_tol: float = 3.0, dist_tol: float = 3.0) -> bool:
    ta = math.degrees(math.atan2(a[3] - a[1], a[2] - a[0])) % 180
    tb = math.degrees(math.atan2(b[3] - b[1], b[2] - b[0])) % 180
    if min(abs(ta - tb), 180 - abs(ta - tb)) > angle_tol:
        return False
    if max(_distance_to_line((b[0], b[1]), a), _distance_to_line((b[2], b[3]), a)) > dist_tol:
        return False
    # overlapping or nearly touching along the line
    length = math.hypot(a[2] - a[0], a[3] - a[1]) or 1.0
    ts = [_projection((b[0], b[1]), a), _projection((b[2], b[3]), a)]
    return max(ts) >= -6 / length and min(ts) <= 1 + 6 / length


def _union(a, b):
    ends = [(a[0], a[1]), (a[2], a[3]), (b[0], b[1]), (b[2], b[3])]
    p, q = max(itertools.combinations(ends, 2), key=lambda pq: math.dist(*pq))
    return [p[0], p[1], q[0], q[1]]


def _projection(p, seg) -> float:
    dx, dy = seg[2] - seg[0], seg[3] - seg[1]
    norm = dx * dx + dy * dy or 1.0
    return ((p[0] - seg[0]) * dx + (p[1] - seg[1]) * dy) / norm


def _distance_to_line(p, seg) -> float:
    dx, dy = seg[2] - seg[0], seg[3] - seg[1]
    norm = math.hypot(dx, dy) or 1.0
    return abs((p[0] - seg[0]) * dy - (p[1] - seg[1]) * dx) / norm


def _distance_to_segment(p, seg) -> float:
    t = min(max(_projection(p, seg), 0.0), 1.0)
    x, y = seg[0] + t * (seg[2] - seg[0]), seg[1] + t * (seg[3] - seg[1])
    return math.hypot(p[0] - x, p[1] - y)


def _junctions(prims: Primitives, ink: np.ndarray, size: int) -> list[tuple[float, float, float]]:
    """Places a labelled point can be, each with a weight on its distance to a label: segment ends and crossings
    (Hough ends overshoot by a stroke width), then dots and circle centres, which are exact, so they are preferred."""
    import cv2

    found: list[tuple[float, float, float]] = []
    for s in prims.segments:
        found += [(s[0], s[1], 1.0), (s[2], s[3], 1.0)]
    for a, b in itertools.combinations(prims.segments, 2):
        crossing = _intersection(a, b)
        if crossing and _distance_to_segment(crossing, a) < 4 and _distance_to_segment(crossing, b) < 4:
            found.append((*crossing, 1.0))
    found += [(cx, cy, 0.6) for cx, cy, _ in prims.circles]
    for s, (cx, cy, r) in itertools.product(prims.segments, prims.circles):
        # strokes were cut where they meet a circle: their ends fall short of the point on the circle
        for end in ((s[0], s[1]), (s[2], s[3])):
            meet = _towards_circle(end, s, (cx, cy, r))
            if meet and math.dist(meet, end) < size * 0.04:
                found.append((*meet, 0.8))
    # Dots: what survives an opening with a disk wider than a stroke is a filled marker.
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    blobs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, disk)
    count, _, stats, centroids = cv2.connectedComponentsWithStats(blobs)
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] <= (size * 0.04) ** 2:
            found.append((float(centroids[i][0]), float(centroids[i][1]), 0.6))
    return found


def _towards_circle(end, seg, circle) -> tuple[float, float] | None:
    """Where the segment's line, continued past `end`, meets the circle nearest to `end`."""
    cx, cy, r = circle
    dx, dy = seg[2] - seg[0], seg[3] - seg[1]
    norm = math.hypot(dx, dy) or 1.0
    dx, dy = dx / norm, dy / norm
    fx, fy = end[0] - cx, end[1] - cy
    b = fx * dx + fy * dy
    disc = b * b - (fx * fx + fy * fy - r * r)
    if disc < 0:
        return None
    roots = (-b - math.sqrt(disc), -b + math.sqrt(disc))
    t = min(roots, key=abs)
    return end[0] + t * dx, end[1] + t * dy


def _intersection(a, b) -> tuple[float, float] | None:
    d = (a[2] - a[0]) * (b[3] - b[1]) - (a[3] - a[1]) * (b[2] - b[0])
    if abs(d) < 1e-9:
        return None
    t = ((b[0] - a[0]) * (b[3] - b[1]) - (b[1] - a[1]) * (b[2] - b[0])) / d
    return a[0] + t * (a[2] - a[0]), a[1] + t * (a[3] - a[1])


def _bind_labels(prims: Primitives, ink: np.ndarray, size: int) -> None:
    """Each letter names the nearest junction; where two letters want one junction, the nearer keeps it."""
    junctions = _junctions(prims, ink, size)
    if not junctions:
        return
    candidates = []
    for label in prims.labels:
        if label["kind"] != "point":
            continue
        x0, y0, x1, y1 = label["bbox"]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        for j, (x, y, weight) in enumerate(junctions):
            distance = math.dist(centre, (x, y))
            if distance <= size * 0.15:
                candidates.append((distance * weight, label["text"], j))
    taken: set[int] = set()
    for _, name, j in sorted(candidates):
        if name in prims.points or j in taken:
            continue
        point = junctions[j][:2]
        if any(math.dist(point, other) < 4 for other in prims.points.values()):
            continue
        prims.points[name] = (round(float(point[0]), 1), round(float(point[1]), 1))
        taken.add(j)


def _coverage(a, b, ink: np.ndarray, unknown: np.ndarray) -> float:
    """Share of the straight path from a to b that is inked (text boxes over it do not count either way)."""
    n = max(int(math.dist(a, b)), 2)
    hits = total = 0
    for t in np.linspace(0.04, 0.96, n):
        x, y = int(round(a[0] + t * (b[0] - a[0]))), int(round(a[1] + t * (b[1] - a[1])))
        if not (0 <= y < ink.shape[0] and 0 <= x < ink.shape[1]) or unknown[y, x]:
            continue
        total += 1
        hits += int(ink[y, x] > 0)
    return hits / total if total >= max(n * 0.3, 2) else 0.0


def _incidences(prims: Primitives, ink: np.ndarray, text_mask: np.ndarray, size: int) -> None:
    dilated = _dilate(ink, 3)
    names = sorted(prims.points)
    joined = {frozenset((p, q)) for p, q in itertools.combinations(names, 2)
              if _coverage(prims.points[p], prims.points[q], dilated, text_mask) >= 0.92}
    tol = max(3.0, size * 0.012)
    lines: list[list[str]] = []
    # longest first, so a line's inner points join it; names break ties so the output does not depend on hashing
    for p, q in sorted((sorted(pq) for pq in joined), key=lambda pq: (-math.dist(*(prims.points[n] for n in pq)), pq)):
        if any(p in line and q in line for line in lines):
            continue
        a, b = prims.points[p], prims.points[q]
        seg = (*a, *b)
        on = [n for n in names if n not in (p, q) and _distance_to_line(prims.points[n], seg) < tol
              and 0 < _projection(prims.points[n], seg) < 1 and frozenset((p, n)) in joined]
        lines.append(sorted([p, q, *on], key=lambda n: _projection(prims.points[n], seg)))
    prims.lines = lines
    for i, (cx, cy, r) in enumerate(prims.circles):
        for name in names:
            d = math.dist(prims.points[name], (cx, cy))
            if d < tol * 1.5:
                prims.circle_centres[i] = name
            elif abs(d - r) < tol * 1.5:
                prims.circle_points.setdefault(i, []).append(name)
    for line in lines:
        if len(line) == 2:
            prims.incidences.append(f"Line({line[0]},{line[1]})")
        else:
            for inner in line[1:-1]:
                prims.incidences.append(f"PointLiesOnLine({inner},Line({line[0]},{line[-1]}))")
    for i, centre in prims.circle_centres.items():
        prims.incidences.append(f"Circle({centre})")
        for name in prims.circle_points.get(i, []):
            prims.incidences.append(f"PointLiesOnCircle({name},Circle({centre}))")
    _length_labels(prims, size)
    _angle_labels(prims, size)


def _angle_labels(prims: Primitives, size: int) -> None:
    """A number with a degree sign inside an angle, near its vertex, is that angle's measure."""
    rays: dict[str, list[str]] = {}
    for line in prims.lines:
        for i, v in enumerate(line):
            for k in (i - 1, i + 1):
                if 0 <= k < len(line):
                    rays.setdefault(v, []).append(line[k])
    for label in prims.labels:
        if label["kind"] != "number" or not label["text"].endswith("°"):
            continue
        x0, y0, x1, y1 = label["bbox"]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        best = None
        for v, ends in rays.items():
            vx, vy = prims.points[v]
            distance = math.dist(centre, (vx, vy))
            if distance > size * 0.2 or len(ends) < 2:
                continue
            direction = math.atan2(centre[1] - vy, centre[0] - vx)
            for p, q in itertools.combinations(ends, 2):
                a = math.atan2(prims.points[p][1] - vy, prims.points[p][0] - vx)
                b = math.atan2(prims.points[q][1] - vy, prims.points[q][0] - vx)
                span = (b - a) % (2 * math.pi)
                if span > math.pi:
                    a, span = b, 2 * math.pi - span
                if (direction - a) % (2 * math.pi) < span and (best is None or (distance, span) < best[0]):
                    best = ((distance, span), (p, v, q))
        if best:
            p, v, q = best[1]
            prims.angles[(min(p, q), v, max(p, q))] = label["text"].rstrip("°")


def _length_labels(prims: Primitives, size: int) -> None:
    """A plain number printed beside the middle of a drawn segment is that segment's length."""
    segments = [(line[i], line[j]) for line in prims.lines for i, j in itertools.combinations(range(len(line)), 2)
                if j == i + 1]
    for label in prims.labels:
        if label["kind"] != "number" or label["text"].endswith("°"):
            continue
        x0, y0, x1, y1 = label["bbox"]
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        best = None
        for p, q in segments:
            seg = (*prims.points[p], *prims.points[q])
            t = _projection(centre, seg)
            distance = _distance_to_line(centre, seg)
            if 0.25 < t < 0.75 and distance < size * 0.09 and (best is None or distance < best[0]):
                best = (distance, p, q)
        if best:
            prims.lengths[tuple(sorted(best[1:]))] = label["text"]
