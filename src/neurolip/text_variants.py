"""Changed wordings of the phenotype texts and class prompts, for the text-robustness experiment
(docs/method.md, "Text robustness"): the same segments with their order shuffled, with paraphrased
templates, with the segments of one role (or one field) dropped, or, as the planted control that must move
every read-out, with the diagnosis words of the two classes swapped.

A variant is a name; :func:`variant_segments` turns the config's segments into the variant's, and
:func:`render_variant` renders every subject's text and the class prompts from them. ``paraphrase_draw``
(used for training, not read-out) draws each subject's template of each segment at random from the original
and its paraphrases, so no single wording is learnt; its class prompts are the config's own.
"""

from __future__ import annotations

import numpy as np

from .text import ROLES, class_prompts, render_text, render_texts

UNCHANGED = "unchanged"
IDENTITY = "identity"  # the unchanged segments, rendered and encoded again: a variant that must give delta 0
SWAP = "swap_diagnosis"  # planted control: the class words exchanged, in the texts and the prompts
SHUFFLE = "shuffle_order"
PARAPHRASE = "paraphrase"
DRAW = "paraphrase_draw"
DROP_PREFIX = "drop_"


def check_variant(name: str, segment_specs, paraphrases) -> None:
    """A clear error for a variant that cannot be built from these segments: an unknown name, a drop of the
    disease segment (the class prompts hold only it) or of nothing, a paraphrase index without templates."""
    variant_segments(segment_specs, name, paraphrases)


def _paraphrase_index(name: str) -> int:
    if name == PARAPHRASE:
        return 0
    suffix = name[len(PARAPHRASE) + 1 :]
    if not suffix.isdigit():
        raise ValueError(f"text variant {name!r}: write paraphrase or paraphrase_<k> (k = 0, 1, ...)")
    return int(suffix)


def variant_segments(segment_specs, name: str, paraphrases, seed: int = 0) -> list[dict]:
    """The segments of variant ``name`` (a new list; the config's is not changed).

    - ``unchanged``/``identity``: the same segments;
    - ``shuffle_order``: the segments in a fixed random order (``seed``) other than the original;
    - ``paraphrase`` / ``paraphrase_<k>``: every segment whose field has paraphrases gets its k-th one
      (k modulo their number; ``paraphrase`` is k = 0); at least one segment must change;
    - ``drop_<role>`` / ``drop_<field>``: those segments left out (never the disease segment);
    - ``swap_diagnosis``: the disease segments' words for class 0 and class 1 exchanged.
    """
    specs = [dict(s) for s in segment_specs]
    if name in (UNCHANGED, IDENTITY):
        return specs
    if name == SHUFFLE:
        if len(specs) < 2:
            raise ValueError("text variant shuffle_order: the texts have a single segment")
        rng = np.random.default_rng(seed)
        order = np.arange(len(specs))
        while (order == np.arange(len(specs))).all():
            order = rng.permutation(len(specs))
        return [specs[i] for i in order]
    if name == PARAPHRASE or (name.startswith(PARAPHRASE + "_") and name != DRAW):
        k = _paraphrase_index(name)
        changed = 0
        for spec in specs:
            alternatives = list(paraphrases.get(spec["field"], []))
            if alternatives:
                spec["template"] = alternatives[k % len(alternatives)]
                changed += 1
        if not changed:
            raise ValueError(
                f"text variant {name!r}: text_robustness.paraphrases has templates for none of the fields "
                f"{[s['field'] for s in specs]}"
            )
        return specs
    if name.startswith(DROP_PREFIX):
        what = name[len(DROP_PREFIX) :]
        by_role = what in ROLES
        dropped = [s for s in specs if (s["role"] if by_role else s["field"]) == what]
        if not dropped:
            raise ValueError(
                f"text variant {name!r}: no segment has {'role' if by_role else 'field'} {what!r} "
                f"(segments: {[(s['field'], s['role']) for s in specs]})"
            )
        if any(s["role"] == "disease" for s in dropped):
            raise ValueError(
                f"text variant {name!r} drops the disease segment: the class prompts hold only it"
            )
        return [s for s in specs if s not in dropped]
    if name == SWAP:
        for spec in specs:
            if spec["role"] == "disease":
                if "values" not in spec:
                    raise ValueError(f"text variant {SWAP}: segment {spec['field']!r} has no values map")
                words = {_class_key(k): v for k, v in spec["values"].items()}
                spec["values"] = {
                    k: words[1 - _class_key(k)] if _class_key(k) in (0, 1) else v
                    for k, v in spec["values"].items()
                }
        return specs
    raise ValueError(
        f"unknown text variant {name!r}: use {UNCHANGED}, {IDENTITY}, {SHUFFLE}, {PARAPHRASE}[_<k>], "
        f"{DROP_PREFIX}<role or field>, {SWAP} (or {DRAW} for training)"
    )


def _class_key(key):
    """A values-map key as a class number where it is one (YAML keys 0/1 or '0'/'1')."""
    try:
        return int(key)
    except (TypeError, ValueError):
        return key


def draw_templates(segment_specs, paraphrases, n_subjects: int, seed: int = 0) -> np.ndarray:
    """(n_subjects, n_segments) indices into [original, *paraphrases] of each segment's field, drawn
    uniformly per subject and segment with ``seed``."""
    rng = np.random.default_rng(seed)
    sizes = [1 + len(paraphrases.get(s["field"], [])) for s in segment_specs]
    return np.stack([rng.integers(0, size, n_subjects) for size in sizes], axis=1)


def render_variant(phenotypes, segment_specs, name: str, paraphrases, *, seed: int = 0, path=None):
    """(texts, class prompts) of variant ``name`` for every subject of ``phenotypes`` (the cohort table)."""
    if name != DRAW:
        specs = variant_segments(segment_specs, name, paraphrases, seed)
        return render_texts(phenotypes, specs, path=path), class_prompts(specs)
    # every alternative must render (checked once per template), then each subject gets its draw
    options = [[s, *({**s, "template": t} for t in paraphrases.get(s["field"], []))] for s in segment_specs]
    for k, choices in enumerate(options):
        for choice in choices:
            render_texts(phenotypes, [*segment_specs[:k], choice, *segment_specs[k + 1 :]], path=path)
    draws = draw_templates(segment_specs, paraphrases, len(phenotypes), seed)
    texts = [
        render_text(row["subject_id"], row, [options[k][draws[i, k]] for k in range(len(options))])
        for i, row in enumerate(phenotypes.to_dict("records"))
    ]
    return texts, class_prompts(segment_specs)
