"""scripts/minilm/wordnet.py on a tiny made-up snippet in data.noun format (never the real files)."""
from __future__ import annotations

from scripts.minilm import wordnet as wn

SNIPPET = """\
  1 This software and database is being provided to you, the LICENSEE, by
  2 Princeton University under the following license.
00000001 04 n 01 pill 0 001 @ 00000002 n 0000 | a dose of medicine in the form of a small pellet; "take a pill twice a day"; "pills"  \n\
00000002 04 n 02 aspirin 0 acetylsalicylic_acid 0 000 | the acetylated derivative of salicylic acid; used as an analgesic; "he took an aspirin for his headache"  \n\
00000003 18 n 01 Hoffmann 0 000 | German chemist (1818-1892)  \n\
00000004 04 n 01 caf\u00e9 0 000 | a small restaurant with \u00e9clairs; "we met at the caf\u00e9 every morning"  \n\
00000005 29 v 01 eat 0 000 01 + 02 00 | take in solid food; "She was eating a banana"; "What did you eat for dinner last night?"  \n\
00000006 00 a 01 red(a) 0 000 | having any of numerous bright or strong colors; "a red apple on the table"  \n\
"""


def folder(tmp_path):
    (tmp_path / "data.noun").write_text(SNIPPET, encoding="utf-8")
    return tmp_path


def test_definitions_and_examples_become_clean_sentences(tmp_path):
    texts = wn.read_texts(folder(tmp_path), ("data.noun",))
    assert texts == [
        "A pill is a dose of medicine in the form of a small pellet.",
        "Take a pill twice a day.",  # "pills" alone is too short
        "Aspirin is the acetylated derivative of salicylic acid.",  # the note after "; " is dropped
        "He took an aspirin for his headache.",
        "Hoffmann is a German chemist (1818-1892).",
        "To eat is to take in solid food.",
        "She was eating a banana.",
        "What did you eat for dinner last night?",
        "Red means having any of numerous bright or strong colors.",  # the "(a)" marker dropped
        "A red apple on the table.",
    ]  # the licence header and the line with accented letters give nothing


def test_parse_line_reads_the_first_lemma_and_splits_the_gloss():
    line = SNIPPET.splitlines()[3]
    assert wn.parse_line(line) == ("n", "aspirin", "the acetylated derivative of salicylic acid",
                                   ["he took an aspirin for his headache"])
    assert wn.parse_line(SNIPPET.splitlines()[0]) is None


def test_too_long_texts_are_dropped():
    assert wn.finished(" ".join(["word"] * (wn.MAX_WORDS + 1))) == ""
    assert wn.finished("three words only") == ""
    assert wn.finished("four words are enough") == "Four words are enough."


def test_near_copies_of_held_out_sentences_are_dropped():
    held = ["He took an ASPIRIN, for his headache!", "The cat sat on the mat."]
    texts = ["he took an aspirin for his headache",           # equal once normalised
             "The cat sat on the mat today.",                 # Jaccard 5/6 >= 0.8
             "The black cat sat on the old mat.",             # Jaccard 5/7 < 0.8: kept
             "A pill is a dose of medicine."]
    assert wn.drop_near_copies(texts, held) == texts[2:]
    assert wn.drop_near_copies(texts, []) == texts
