"""Write the bundled sample of sentence pairs of the "Train your own" page (issue 12).

    python scripts/make_pair_sample.py

Output: lmcore/assets/pairs/en-fr-sample.tsv, English<TAB>French, 400 pairs written by this
script from a small grammar (no dataset is read, so nothing from ../shared is redistributed):
"the (small) cat sees the black dog" / "le (petit) chat voit le chien noir". Articles agree in
gender and number, "small"/"big" come before the noun and colours after it, so the alignment a
model learns has both straight and crossing links. Fixed seed: the same file every time.
"""
from __future__ import annotations

import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "lmcore" / "assets" / "pairs" / "en-fr-sample.tsv"
COUNT = 400
# English singular, plural; French singular, plural, gender
NOUNS = [("cat", "cats", "chat", "chats", "m"), ("dog", "dogs", "chien", "chiens", "m"),
         ("bird", "birds", "oiseau", "oiseaux", "m"), ("horse", "horses", "cheval", "chevaux", "m"),
         ("boy", "boys", "garçon", "garçons", "m"), ("girl", "girls", "fille", "filles", "f"),
         ("woman", "women", "femme", "femmes", "f"), ("man", "men", "homme", "hommes", "m"),
         ("cow", "cows", "vache", "vaches", "f"), ("mouse", "mice", "souris", "souris", "f"),
         ("teacher", "teachers", "professeur", "professeurs", "m"), ("car", "cars", "voiture", "voitures", "f")]
# English (he/they), French (il/ils)
VERBS = [("sees", "see", "voit", "voient"), ("likes", "like", "aime", "aiment"),
         ("follows", "follow", "suit", "suivent"), ("watches", "watch", "regarde", "regardent"),
         ("finds", "find", "trouve", "trouvent"), ("hears", "hear", "entend", "entendent")]
BEFORE = [("small", "petit", "petite"), ("big", "grand", "grande")]   # French: before the noun
AFTER = [("black", "noir", "noire"), ("white", "blanc", "blanche"), ("red", "rouge", "rouge")]
PEOPLE = {"boy", "girl", "woman", "man", "teacher"}   # colours describe animals and cars only


def noun_phrase(rng: random.Random) -> tuple[str, str, bool]:
    en1, en2, fr1, fr2, gender = rng.choice(NOUNS)
    plural = rng.random() < 0.3
    en, fr = (en2, fr2) if plural else (en1, fr1)
    art = "les" if plural else ("la" if gender == "f" else "le")
    if art != "les" and fr[0] in "aeiouh":
        art = "l'"
    words_en, words_fr = [en], [fr]
    kind = rng.random()
    if kind < 0.25:
        adj_en, m, f = rng.choice(BEFORE)
        adj = (f if gender == "f" else m) + ("s" if plural else "")
        words_en, words_fr = [adj_en, en], [adj, fr]
        if art == "l'":
            art = "la" if gender == "f" else "le"
    elif kind < 0.5 and en1 not in PEOPLE:
        adj_en, m, f = rng.choice(AFTER)
        adj = (f if gender == "f" else m) + ("s" if plural and not (f if gender == "f" else m).endswith("s") else "")
        words_en, words_fr = [adj_en, en], [fr, adj]
    fr_text = (art + " ".join(words_fr)) if art == "l'" else " ".join([art] + words_fr)
    return " ".join(["the"] + words_en), fr_text, plural


def pair(rng: random.Random) -> tuple[str, str]:
    subj_en, subj_fr, plural = noun_phrase(rng)
    obj_en, obj_fr, _ = noun_phrase(rng)
    v_en1, v_en2, v_fr1, v_fr2 = rng.choice(VERBS)
    en = f"{subj_en} {v_en2 if plural else v_en1} {obj_en} ."
    fr = f"{subj_fr} {v_fr2 if plural else v_fr1} {obj_fr} ."
    return en[0].upper() + en[1:], fr[0].upper() + fr[1:]


def main() -> None:
    rng = random.Random(0)
    seen: dict[str, str] = {}
    while len(seen) < COUNT:
        en, fr = pair(rng)
        seen.setdefault(en, fr)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(f"{en}\t{fr}\n" for en, fr in seen.items()), encoding="utf-8")
    print(f"wrote {len(seen)} pairs to {OUT}")


if __name__ == "__main__":
    main()
