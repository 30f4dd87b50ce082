"""The export a user would otherwise write: filter a chest-phantom pack's COCO ground truth,
COCO results, label masks and score CSVs by image name, and copy the files into a new folder
(json + shutil; no validation, no hashing, no provenance). Prints the best time in seconds.

Usage: export_py.py PACK NEEDLE REPEATS
"""
import csv
import json
import os
import shutil
import sys
import tempfile
import time


def export(src, out, needle):
    gt = json.load(open(os.path.join(src, "ground_truth/instances.json")))
    images = [im for im in gt["images"] if needle in im["file_name"]]
    keep = {im["id"] for im in images}
    gt_out = dict(gt, images=images, annotations=[a for a in gt["annotations"] if a["image_id"] in keep])
    os.makedirs(os.path.join(out, "ground_truth/masks"))
    json.dump(gt_out, open(os.path.join(out, "ground_truth/instances.json"), "w"))
    os.makedirs(os.path.join(out, "images"))
    stems = []
    for im in images:
        shutil.copyfile(os.path.join(src, "images", im["file_name"]), os.path.join(out, "images", im["file_name"]))
        stems.append(os.path.splitext(im["file_name"])[0])
    for stem in stems:
        shutil.copyfile(os.path.join(src, "ground_truth/masks", stem + ".png"), os.path.join(out, "ground_truth/masks", stem + ".png"))
    names = {im["file_name"] for im in images} | set(stems)
    for run in ("baseline", "candidate"):
        r = os.path.join(src, "runs", run)
        o = os.path.join(out, "runs", run)
        os.makedirs(os.path.join(o, "masks"))
        dets = [d for d in json.load(open(os.path.join(r, "detections.json"))) if d["image_id"] in keep]
        json.dump(dets, open(os.path.join(o, "detections.json"), "w"))
        for stem in stems:
            shutil.copyfile(os.path.join(r, "masks", stem + ".png"), os.path.join(o, "masks", stem + ".png"))
        with open(os.path.join(r, "scores.csv")) as f, open(os.path.join(o, "scores.csv"), "w", newline="") as g:
            rows = csv.reader(f)
            w = csv.writer(g)
            w.writerow(next(rows))
            for row in rows:
                if row and row[0] in names:
                    w.writerow(row)
    shutil.copyfile(os.path.join(src, "rules.toml"), os.path.join(out, "rules.toml"))
    shutil.copyfile(os.path.join(src, "lightbox.toml"), os.path.join(out, "lightbox.toml"))
    return len(images)


def main():
    src, needle, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    best = float("inf")
    for _ in range(repeats):
        tmp = tempfile.mkdtemp()
        out = os.path.join(tmp, "out")
        t = time.perf_counter()
        n = export(src, out, needle)
        best = min(best, time.perf_counter() - t)
        shutil.rmtree(tmp)
    print(f"{best:.3f}")
    print(f"{n} cases", file=sys.stderr)


main()
