"""Write the bundled sample of sentence pairs of the "Train your own" page (issue 12).

    python scripts/make_pair_sample.py --data ../shared/datasets/fra-eng.tsv

Output: lmcore/assets/pairs/en-fr-sample.tsv, English<TAB>French, 400 pairs: every English
sentence of 3 to 6 words is used once (the first translation kept), then 400 are drawn with
random.Random(0). Source: Tatoeba (tatoeba.org) via the manythings.org Anki export, CC-BY 2.0 FR.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "lmcore" / "assets" / "pairs" / "en-fr-sample.tsv"
COUNT = 400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    seen: dict[str, str] = {}
    for line in Path(args.data).read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and 3 <= len(parts[0].split()) <= 6 and parts[0] not in seen:
            seen[parts[0]] = parts[1]
    chosen = random.Random(0).sample(sorted(seen), COUNT)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(f"{en}\t{seen[en]}\n" for en in chosen), encoding="utf-8")


if __name__ == "__main__":
    main()
