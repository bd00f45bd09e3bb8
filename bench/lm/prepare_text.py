#!/usr/bin/python3
"""Make the byte-level text of the King James Bible and its train / calibration / evaluation splits.

    /usr/bin/python3 bench/lm/prepare_text.py [--out bench/out/lm]

Source: Debian's `bible-kjv-text` (public domain), printed by the `bible` program of Debian's `bible-kjv`
(`apt-get install bible-kjv`; `/usr/lib/bible.data` is its compressed format). Nothing is downloaded.

Text format (ASCII, one file per split): each chapter is a heading line `<Book> <chapter>` followed by its verses,
one verse per line with the verse number dropped, and a blank line after the chapter.

Splits, by contiguous blocks of 10 chapters in canonical order (1189 chapters, so about 119 blocks): block b goes to
- `eval` (held out for perplexity) when b % 10 == 9   (a tenth of the chapters),
- `calib` (calibration data for pruning) when b % 20 == 4   (a twentieth),
- `train` otherwise.
Interleaving blocks spreads every split over the Old and New Testaments (law, history, poetry, prophets, gospels,
letters), so held-out perplexity is not measured on one genre; each block keeps ten chapters of running text together.

Outputs in --out: `kjv_{train,calib,eval}.txt` and `splits.json` (chapters per split, bytes, sha256).
"""

import argparse
import hashlib
import json
import os
import re
import subprocess

HEADING = re.compile(r"^(?P<book>[1-3]?\s?[A-Za-z][A-Za-z ]*?) (?P<chapter>\d+)$")
VERSE = re.compile(r"^\s+(?P<verse>\d+) (?P<text>.*)$")
BLOCK = 10


def read_bible():
    """Chapters as (heading, [verse texts]) in canonical order, from the `bible` program."""
    raw = subprocess.run(["bible", "-l100000", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                         cwd="/tmp").stdout.decode("ascii")
    chapters = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        heading = HEADING.match(line)
        verse = VERSE.match(line)
        if verse:
            if not chapters:
                raise SystemExit(f"verse before any chapter heading: {line!r}")
            chapters[-1][1].append(verse.group("text").strip())
        elif heading:
            chapters.append((line.strip(), []))
        else:
            raise SystemExit(f"unexpected line from `bible`: {line!r}")
    return chapters


def split_of(chapter_index):
    block = chapter_index // BLOCK
    if block % 10 == 9:
        return "eval"
    if block % 20 == 4:
        return "calib"
    return "train"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench", "out", "lm"))
    args = parser.parse_args()
    chapters = read_bible()
    if len(chapters) != 1189:
        raise SystemExit(f"expected 1189 chapters, `bible` printed {len(chapters)}")
    texts = {"train": [], "calib": [], "eval": []}
    headings = {"train": [], "calib": [], "eval": []}
    for i, (heading, verses) in enumerate(chapters):
        name = split_of(i)
        texts[name].append(heading + "\n" + "\n".join(verses) + "\n\n")
        headings[name].append(heading)
    os.makedirs(args.out, exist_ok=True)
    summary = dict(source="Debian bible-kjv-text via `bible -l100000 Gen1:1-Rev22:21`", chapters=len(chapters),
                   block=BLOCK, rule="block = chapter // 10; eval if block % 10 == 9, calib if block % 20 == 4, "
                                     "else train", splits={})
    for name, parts in texts.items():
        data = "".join(parts).encode("ascii")
        with open(os.path.join(args.out, f"kjv_{name}.txt"), "wb") as f:
            f.write(data)
        summary["splits"][name] = dict(file=f"kjv_{name}.txt", chapters=len(parts), bytes=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), first=headings[name][0],
                                       last=headings[name][-1])
        print(f"{name}: {len(parts)} chapters, {len(data)} bytes")
    with open(os.path.join(args.out, "splits.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
