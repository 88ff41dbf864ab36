"""Translation pipeline: sentence-pair data, baselines, training/evaluation and reports.

- data.py: TSV pairs with strict input checks; the built-in KJV / Reina-Valera 1909 Bible corpus.
- batches.py: length-bucketed, seeded batches of (src, src_len, tgt_in, tgt_out).
- baselines.py: copy-the-source and an IBM-model-1 word-by-word dictionary.
- pipeline.py: config, presets, train / evaluate / translate (``rnnkit translate ...``).
- report.py: BLEU/chrF table, attention heatmaps.

The model itself is :mod:`rnnkit.models.seq2seq`.
"""
