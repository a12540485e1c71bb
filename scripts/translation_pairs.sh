# Sourced by train_seq2seq.sh and train_transformer.sh: the pairs and vocabulary options of the
# two translation directions, the same for every bundled translator (DATA is set by the caller).
EN_FR=(--pairs "$DATA/fra-eng.tsv" --src-lang en --tgt-lang fr --dataset fra-eng.tsv
       --min-freq 3 --tgt-min-freq 5 --max-vocab 6000)
KO_EN=(--pairs "$DATA/kor-eng.tsv" --swap --src-lang ko --tgt-lang en --dataset kor-eng.tsv
       --min-freq 2 --tgt-min-freq 2 --max-vocab 6000 --max-src-tokens 160)
