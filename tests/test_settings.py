"""The one settings object: LLM choices validated at start-up, secrets.toml as a source."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import settings as settings_module
from advisor.errors import ConfigError
from advisor.llm import ModelClient, build_llm
from advisor.settings import JsonMode, LLMProvider, load_settings


def test_no_llm_is_the_default_and_a_first_class_choice() -> None:
    settings = load_settings()
    assert settings.llm_provider is LLMProvider.NONE
    assert build_llm(settings) is None
    assert ModelClient.from_settings(settings) is None


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"llm_provider": "openai", "llm_base_url": "http://127.0.0.1:1/v1"}, "ADVISOR_LLM_MODEL"),
        ({"llm_provider": "openai", "llm_model": "m"}, "ADVISOR_LLM_BASE_URL"),
        ({"llm_provider": "claude"}, "ADVISOR_LLM_PROVIDER"),
        ({"llm_timeout_s": 0}, "ADVISOR_LLM_TIMEOUT_S"),
        ({"llm_max_attempts": 50}, "ADVISOR_LLM_MAX_ATTEMPTS"),
    ],
)
def test_bad_llm_settings_name_the_variable(overrides: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    assert variable in str(caught.value) or variable.split("_", 1)[1].lower() in str(caught.value)


def test_providers_build_real_llama_index_models() -> None:
    openai = build_llm(
        load_settings(llm_provider="openai", llm_model="m", llm_base_url="http://127.0.0.1:9/v1")
    )
    assert type(openai).__name__ == "OpenAILike"
    assert openai.max_retries == 0  # type: ignore[union-attr]  # one retry layer: ours
    ollama = build_llm(load_settings(llm_provider="ollama", llm_model="llama3.2"))
    assert type(ollama).__name__ == "Ollama"


def test_streamlit_secrets_are_a_settings_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[advisor]\nllm_provider = "ollama"\nllm_model = "qwen2.5"\nllm_json_mode = "prompt"\n'
    )
    monkeypatch.setattr(settings_module, "SECRETS_FILE", secrets)
    for name in ("ADVISOR_LLM_PROVIDER", "ADVISOR_LLM_MODEL", "ADVISOR_LLM_JSON_MODE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.llm_provider is LLMProvider.OLLAMA
    assert settings.llm_model == "qwen2.5"
    assert settings.llm_json_mode is JsonMode.PROMPT
    # the environment wins over the secrets file
    monkeypatch.setenv("ADVISOR_LLM_PROVIDER", "none")
    assert load_settings().llm_provider is LLMProvider.NONE
