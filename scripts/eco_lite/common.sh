# Sourced by the ECO-lite launchers: the project's preamble plus the flags every seed script passed
# (docs/differences.md#launch-eco-scripts).
# Each launcher puts its own flags and then the user's after these; the last occurrence of a flag wins.
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
seed_flags=(--dataset ucf101 --modality RGB --train_list data/ucf101_rgb_train_split_1.txt
            --val_list data/ucf101_rgb_val_split_1.txt --arch ECO --num_segments 4 --lr 0.001 --num_saturate 5
            --epochs 60 --batch-size 16 --dropout 0.7 --consensus_type identity --rgb_prefix img_
            --no_partialbn True --nesterov True)
