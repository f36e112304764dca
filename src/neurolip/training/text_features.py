"""Frozen text-encoder outputs, computed once per distinct text and stored in safetensors."""

import json

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..models.text_encoder import HFTextEncoder, TokenBatch


def compute_text_features(texts, prompts, out_path, model_name, max_length=48, batch_size=64):
    """``texts``/``prompts``: lists of :class:`~neurolip.text.PhenotypeText`. Identical texts are encoded once."""
    encoder = HFTextEncoder(model_name, max_length=max_length)
    unique = {}
    for item in texts:
        unique.setdefault(item.text, item)
    distinct = list(unique.values())
    states, mask, segment_masks = encoder.encode(
        [t.text for t in distinct], [[(s.start, s.end) for s in t.segments] for t in distinct], batch_size
    )
    input_ids = encoder.tokenize([t.text for t in distinct])[0]["input_ids"]
    row_of_text = {t.text: i for i, t in enumerate(distinct)}
    rows = torch.tensor([row_of_text[t.text] for t in texts])
    prompt_states, prompt_mask, prompt_segment_masks = encoder.encode(
        [p.text for p in prompts], [[(s.start, s.end) for s in p.segments] for p in prompts], batch_size
    )
    prompt_input_ids = encoder.tokenize([p.text for p in prompts])[0]["input_ids"]
    # ids of each segment's text: subjects with the same words in a segment share an attribute value
    segment_value_ids = np.zeros((len(texts), len(texts[0].segments)), dtype=np.int64)
    for k in range(len(texts[0].segments)):
        vocabulary = {}
        for i, item in enumerate(texts):
            segment_value_ids[i, k] = vocabulary.setdefault(item.segments[k].text, len(vocabulary))
    tensors = {
        "states": states.half().contiguous(),
        "mask": mask.to(torch.uint8),
        "segment_masks": segment_masks.to(torch.uint8),
        "rows": rows,
        "segment_value_ids": torch.from_numpy(segment_value_ids),
        "prompt_states": prompt_states.half().contiguous(),
        "prompt_mask": prompt_mask.to(torch.uint8),
        # token ids let a fine-tuned encoder recompute the states (text_encoder.finetune)
        "input_ids": input_ids.contiguous(),
        "prompt_input_ids": prompt_input_ids.contiguous(),
        # prompts hold only the disease segment(s): their union marks the diagnosis words
        "prompt_segment_mask": prompt_segment_masks.any(1).to(torch.uint8),
    }
    metadata = {
        "subject_ids": json.dumps([t.subject_id for t in texts]),
        "segment_fields": json.dumps([s.field for s in texts[0].segments]),
        "segment_roles": json.dumps([s.role for s in texts[0].segments]),
        "model": model_name,
        "n_distinct_texts": str(len(distinct)),
    }
    save_file(tensors, str(out_path), metadata=metadata)
    return len(distinct)


class TextFeatures:
    """Loaded cache: per-subject token states (expanded lazily from distinct texts), segment masks and the
    class prompts. A fine-tuned text encoder belongs to the model (``NeuroLIP.attach_text_backbone``); it
    reads the token ids stored here."""

    def __init__(self, path):
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
        tensors = load_file(str(path))
        self.subject_ids = json.loads(metadata["subject_ids"])
        self.segment_fields = json.loads(metadata["segment_fields"])
        self.segment_roles = json.loads(metadata["segment_roles"])
        self.model_name = metadata.get("model", "")
        self.distinct_states = tensors["states"].float()
        self.distinct_mask = tensors["mask"].bool()
        self.distinct_segment_masks = tensors["segment_masks"].bool()
        self.rows = tensors["rows"]
        self.segment_value_ids = tensors["segment_value_ids"]
        self.input_ids = tensors.get("input_ids")
        self.hidden_size = self.distinct_states.shape[-1]
        self._prompts = TokenBatch(
            tensors["prompt_states"].float(),
            tensors["prompt_mask"].bool(),
            tensors["prompt_segment_mask"].bool(),
            tensors.get("prompt_input_ids"),
        )
        self.index = {sid: i for i, sid in enumerate(self.subject_ids)}

    def prompts(self) -> TokenBatch:
        """The class prompts (one per diagnosis), their diagnosis words as ``segment_masks``."""
        return self._prompts

    def positions(self, subject_ids):
        missing = [s for s in subject_ids if s not in self.index]
        if missing:
            raise KeyError(f"no text features for subjects {missing[:5]}")
        return torch.tensor([self.index[s] for s in subject_ids])

    def batch(self, positions) -> TokenBatch:
        """These subjects' texts, cut to the longest real text of the batch."""
        rows = self.rows[positions]
        length = int(self.distinct_mask[rows].sum(1).max())
        input_ids = self.input_ids[rows, :length] if self.input_ids is not None else None
        return TokenBatch(
            self.distinct_states[rows, :length],
            self.distinct_mask[rows, :length],
            self.distinct_segment_masks[rows, :, :length],
            input_ids,
        )
