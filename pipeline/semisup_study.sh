#!/bin/sh
# The semi-supervised study (does DRMM +KL+NN beat the CNN at few labels, and
# does the reconstruction contribute?): trains every variant of a variants
# file (one `name | train flags` per line) for each seed S (--seed S
# --label-seed S: the same labelled subset and data order for every variant
# of a seed), on the first TRAIN_LIMIT training images, with the last VALID
# training images held out as a validation split (valid_error after every
# epoch).  PHASE=search evaluates nothing on the test set: settings are
# chosen on the validation split.  PHASE=final also evaluates every run on
# the test set (the true-class / wrong-class renderings included).  Writes
# OUT/<phase>-<tag>.md and .csv from one SQL query over the store, and in the
# final phase OUT/report-<tag>/report.md (bin/report, the main comparison).
#
# Runs are named as the pipeline names them, EXPERIMENT/MODEL/nLABELS/sSEED:
# the baseline and the MAIN variant in experiment ss-<phase>-<tag>, so that
# `bin/report --experiment ss-<phase>-<tag>` writes the pipeline's tables for
# them (Table 5: DRMM +KL+NN against the CNN, with its verdict); every other
# variant V in experiment ss-<phase>-<tag>-V (the report's tables tell models
# apart by their loss weights, and the ablations share the main variant's).
#
# Usage: pipeline/semisup_study.sh   (settings from the environment:)
#   STORE (runs/semisup.db)  DATASET (fashion-mnist)  ARCH (archs/convsmall.arch)
#   LABELS (100)  EPOCHS (8)  TRAIN_LIMIT (20000)  VALID (10000)  SEEDS (1 2 3)
#   THREADS (2)  VARIANTS (pipeline/semisup_variants.txt)  PHASE (final)  BASELINE (cnn)
#   MAIN (drmm+kl+nn)
#   OUT (reports/semisup/<dataset>)  COMMON (extra train flags of every run)
# Runs already FINISHED in the store under the same name are not retrained.
# Exit status: 0 done, 1 a program failed, 3 no such dataset in the store.
set -eu

STORE=${STORE:-runs/semisup.db}
DATASET=${DATASET:-fashion-mnist}
ARCH=${ARCH:-archs/convsmall.arch}
LABELS=${LABELS:-100}
EPOCHS=${EPOCHS:-8}
TRAIN_LIMIT=${TRAIN_LIMIT:-20000}
VALID=${VALID:-10000}
SEEDS=${SEEDS:-1 2 3}
THREADS=${THREADS:-2}
VARIANTS=${VARIANTS:-pipeline/semisup_variants.txt}
PHASE=${PHASE:-final}
BASELINE=${BASELINE:-cnn}
MAIN=${MAIN:-drmm+kl+nn}
OUT=${OUT:-reports/semisup/$DATASET}
COMMON=${COMMON:-}
BIN=${BIN:-bin}

case "$PHASE" in search|final) ;; *) echo "semisup: PHASE must be search or final (got '$PHASE')" >&2; exit 2 ;; esac
mkdir -p "$(dirname "$STORE")" "$OUT"
tag="l$LABELS-e$EPOCHS-n$TRAIN_LIMIT"
prefix="ss-$PHASE-$tag"

sql() { sqlite3 -bail "$STORE" "$@"; }

[ -f "$STORE" ] && [ -n "$(sql "SELECT 1 FROM datasets WHERE name = '$DATASET'")" ] || {
    echo "semisup: no dataset '$DATASET' in $STORE: run bin/ingest first" >&2; exit 3; }

run_variant() {   # seed, name, flags...
    seed=$1; exp="$prefix"
    [ "$2" = "$BASELINE" ] || [ "$2" = "$MAIN" ] || exp="$prefix-$2"
    name="$exp/$2/n$LABELS/s$seed"; shift 2
    have=$(sql "SELECT MAX(r.id) FROM runs r JOIN datasets d ON d.id = r.dataset_id
                WHERE r.name = '$name' AND r.status = 'FINISHED' AND d.name = '$DATASET'")
    if [ -z "$have" ]; then
        echo "semisup: training $name" >&2
        # shellcheck disable=SC2086
        out=$("$BIN/train" --store "$STORE" --dataset "$DATASET" --arch "$ARCH" --name "$name" \
              --labels "$LABELS" --epochs "$EPOCHS" --train-limit "$TRAIN_LIMIT" --valid "$VALID" \
              --seed "$seed" --label-seed "$seed" --threads "$THREADS" --quiet $COMMON "$@")
        have=$(echo "$out" | sed -n 's/^run_id=\([0-9]*\).*/\1/p')
    fi
    [ "$PHASE" = final ] || return 0
    if [ -z "$(sql "SELECT id FROM evaluations WHERE run_id = $have AND split = 'test' AND xvar IS NOT NULL LIMIT 1")" ]; then
        grid=""
        [ "$seed" = "$(echo $SEEDS | cut -d' ' -f1)" ] && grid="--grid $OUT/grid-$(echo "$name" | tr '/' '_').png"
        # shellcheck disable=SC2086
        "$BIN/evaluate" --store "$STORE" --run "$have" --no-predictions --threads "$THREADS" $grid >/dev/null
    fi
}

for seed in $SEEDS; do
    grep -v '^[[:space:]]*\(#\|$\)' "$VARIANTS" | while IFS='|' read -r vname vflags; do
        # shellcheck disable=SC2086
        run_variant "$seed" "$(echo $vname)" $vflags
    done
done

# One row per run: its variant and seed, the settings that tell the variants
# apart, the last epoch's validation error, the test error (final phase), the
# held-out reconstruction error against the images' variance when rendering
# from the predicted, the true and a wrong class, and the training LRC.
QUERY="WITH r AS (
  SELECT r.id AS run_id, r.name, r.seed,
         substr(substr(r.name, instr(r.name, '/') + 1), 1, instr(substr(r.name, instr(r.name, '/') + 1), '/') - 1) AS variant
  FROM runs r JOIN datasets d ON d.id = r.dataset_id
  WHERE d.name = '$DATASET' AND r.status = 'FINISHED' AND (r.name LIKE '$prefix/%' OR r.name LIKE '$prefix-%')
    AND r.id = (SELECT MAX(r2.id) FROM runs r2 WHERE r2.name = r.name AND r2.dataset_id = r.dataset_id))
SELECT r.variant, r.seed,
       (SELECT group_concat(key || '=' || value, ' ') FROM run_config c WHERE c.run_id = r.run_id
         AND c.key IN ('supervised_only','a_rc','a_kl','a_nn','a_mm','td_param','td_weights','td_leak','in_norm',
                       'augment_shift','augment_flip','dropout','unsup_half','td_true_label')
         AND NOT (c.key IN ('augment_shift','augment_flip','td_true_label','in_norm','supervised_only','a_mm','td_leak',
                            'dropout') AND c.value = '0')
         AND NOT (c.key NOT IN ('supervised_only','in_norm','augment_shift','augment_flip','dropout') AND EXISTS
                  (SELECT 1 FROM run_config s WHERE s.run_id = r.run_id AND s.key = 'supervised_only' AND s.value = '1'))) AS settings,
       round(100 * (SELECT value FROM metrics_latest m WHERE m.run_id = r.run_id AND m.name = 'valid_error'), 2) AS valid_err_pct,
       round(100 * e.error, 2) AS test_err_pct,
       round(e.recon_error / e.xvar, 3) AS recon_pred_ratio,
       round(e.recon_true / e.xvar, 3) AS recon_true_ratio,
       round(e.recon_wrong / e.xvar, 3) AS recon_wrong_ratio,
       round((SELECT value FROM metrics_latest m WHERE m.run_id = r.run_id AND m.name = 'lrc'), 3) AS train_lrc,
       round((SELECT value FROM metrics_latest m WHERE m.run_id = r.run_id AND m.name = 'images_per_s')) AS images_per_s
FROM r LEFT JOIN latest_test_evaluation e ON e.run_id = r.run_id
ORDER BY r.variant, r.seed"

# Paired differences against the baseline variant, per seed (percentage
# points; negative: the variant is better), on the validation split and, in
# the final phase, on the test set.
PAIRED="WITH r AS (
  SELECT r.id AS run_id, r.seed,
         substr(substr(r.name, instr(r.name, '/') + 1), 1, instr(substr(r.name, instr(r.name, '/') + 1), '/') - 1) AS variant,
         (SELECT value FROM metrics_latest m WHERE m.run_id = r.id AND m.name = 'valid_error') AS verr,
         e.error AS terr
  FROM runs r JOIN datasets d ON d.id = r.dataset_id LEFT JOIN latest_test_evaluation e ON e.run_id = r.id
  WHERE d.name = '$DATASET' AND r.status = 'FINISHED' AND (r.name LIKE '$prefix/%' OR r.name LIKE '$prefix-%')
    AND r.id = (SELECT MAX(r2.id) FROM runs r2 WHERE r2.name = r.name AND r2.dataset_id = r.dataset_id)),
p AS (SELECT v.variant, v.seed, 100 * (v.verr - b.verr) AS dv, 100 * (v.terr - b.terr) AS dt
      FROM r v JOIN r b ON b.seed = v.seed AND b.variant = '$BASELINE' WHERE v.variant != '$BASELINE')
SELECT variant, count(*) AS seeds,
       group_concat(printf('%+.2f', dv), ' ') AS valid_diff_per_seed, round(avg(dv), 2) AS valid_mean_diff,
       group_concat(CASE WHEN dt IS NOT NULL THEN printf('%+.2f', dt) END, ' ') AS test_diff_per_seed,
       round(avg(dt), 2) AS test_mean_diff,
       CASE WHEN count(dt) < 3 THEN 'fewer than 3 seeds: no verdict'
            WHEN avg(dt) <= -1.5 AND max(dt) < 0 THEN 'beats the baseline'
            ELSE 'does not beat the baseline' END AS verdict
FROM p GROUP BY variant ORDER BY variant"

md="$OUT/$PHASE-$tag.md"
{
    echo "# Semi-supervised study ($PHASE): $DATASET, $LABELS labels, $EPOCHS epochs on $TRAIN_LIMIT images"
    echo
    echo "Written by \`pipeline/semisup_study.sh\` from \`$STORE\`. Seeds: $SEEDS (each seed: its own"
    echo "initialisation, data order and labelled subset, the same for every variant). The last $VALID"
    echo "training images are held out as a validation split (never trained on); settings are chosen on"
    echo "it, never on the test set. Common flags: \`--threads $THREADS $COMMON\`."
    echo
    echo "Verdict rule, fixed before the numbers: a variant beats \`$BASELINE\` when, over at least 3 seeds,"
    echo "its mean paired test-error difference is at most -1.5 points and every seed's difference is"
    echo "negative. Errors are the last epoch's, never the best over epochs. Ratios are held-out"
    echo "reconstruction error / the images' per-pixel variance, rendering from the predicted, the true and"
    echo "a wrong class (1.0: no better than rendering each channel's mean)."
    echo
    echo "## Variants"
    echo
    echo '```'
    grep -v '^[[:space:]]*\(#\|$\)' "$VARIANTS"
    echo '```'
    echo
    echo "## Runs"
    echo
    sql -markdown -header "$QUERY"
    echo
    echo "## Paired differences against \`$BASELINE\` (points)"
    echo
    sql -markdown -header "$PAIRED"
    echo
    echo "## Validation error per epoch (%)"
    echo
    sql -markdown -header "SELECT r.name AS run,
           group_concat(printf('%.1f', 100 * m.value), ' ') AS valid_error_by_epoch
      FROM runs r JOIN metrics m ON m.run_id = r.id AND m.name = 'valid_error'
      JOIN datasets d ON d.id = r.dataset_id
     WHERE d.name = '$DATASET' AND r.status = 'FINISHED' AND (r.name LIKE '$prefix/%' OR r.name LIKE '$prefix-%')
       AND r.id = (SELECT MAX(r2.id) FROM runs r2 WHERE r2.name = r.name AND r2.dataset_id = r.dataset_id)
     GROUP BY r.id ORDER BY r.name"
    echo
    echo "## Queries"
    echo
    echo '```sql'
    echo "$QUERY;"
    echo
    echo "$PAIRED;"
    echo '```'
} > "$md"
sql -csv -header "$QUERY" > "$OUT/$PHASE-$tag.csv"
sql -csv -header "$PAIRED" > "$OUT/$PHASE-$tag-paired.csv"
echo "semisup: wrote $md" >&2
if [ "$PHASE" = final ]; then
    # the main comparison through the pipeline's own report (Table 5 and its verdict)
    mkdir -p "$OUT/report-$tag"
    "$BIN/report" --store "$STORE" --dataset "$DATASET" --experiment "$prefix" --out "$OUT/report-$tag/report.md" \
        --command "PHASE=final pipeline/semisup_study.sh (DATASET=$DATASET LABELS=$LABELS EPOCHS=$EPOCHS TRAIN_LIMIT=$TRAIN_LIMIT VALID=$VALID SEEDS='$SEEDS')" \
        --notes "The semi-supervised study's main comparison ($MAIN against $BASELINE); its ablations and the paired differences per seed are in ../$PHASE-$tag.md." >&2
fi
