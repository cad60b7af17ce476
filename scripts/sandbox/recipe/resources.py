"""Which ops of a recipe need a model file, word list or Python package that this machine lacks.

Data-Juicer fetches such resources when an op is built or first runs (model files from its model
store into DATA_JUICER_MODELS_CACHE, word lists into DATA_JUICER_ASSETS_CACHE, packages by pip).
A run here never downloads or installs, so the recipe check builds every op with downloads
intercepted and model loading deferred, and lists every missing resource at once, with where to
place it. A resource that is present is used as Data-Juicer would use it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator
from unittest import mock

# model types whose prepare function loads one file by name, and that file's name
MODEL_FILES: dict[str, Callable[[dict[str, Any]], str]] = {
    "sentencepiece": lambda kwargs: kwargs.get("name_pattern", "{}.sp.model").format(
        kwargs.get("lang", "en")),
    "kenlm": lambda kwargs: kwargs.get("name_pattern", "{}.arpa.bin").format(kwargs.get("lang", "en")),
    "fasttext": lambda kwargs: kwargs.get("model_name", "lid.176.bin"),
}
# the Python module each of those model types needs, and the pip package Data-Juicer installs for it
MODEL_PACKAGES = {"sentencepiece": ("sentencepiece", "sentencepiece"), "kenlm": ("kenlm", "kenlm"),
                  "fasttext": ("fasttext", "fasttext-predict")}


@dataclass(frozen=True)
class Missing:
    """One resource an op needs: what it is, where to place it, and where Data-Juicer gets it."""

    op_index: int
    op_name: str
    what: str
    place: str
    source: str = ""

    def line(self) -> str:
        source = f" (Data-Juicer downloads it from {self.source})" if self.source else ""
        return f"op {self.op_index} {self.op_name}: {self.what}{source} -> {self.place}"


class DownloadRefused(RuntimeError):
    """Raised where Data-Juicer would download."""


@contextlib.contextmanager
def downloads_refused(attempts: list[str]) -> Iterator[None]:
    """Data-Juicer's download calls record their URL and fail; hubs are offline; output is quiet."""
    from data_juicer.utils import asset_utils, model_utils

    def refuse(url: str, *args: Any, **kwargs: Any) -> None:
        attempts.append(str(url))
        raise DownloadRefused(url)

    offline = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    with mock.patch.object(model_utils.wget, "download", refuse), \
            mock.patch.object(asset_utils, "requests", mock.Mock(get=refuse)), \
            mock.patch.dict(os.environ, offline), \
            contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


@contextlib.contextmanager
def models_deferred(module: Any, requests: list[tuple[str, dict[str, Any]]]) -> Iterator[None]:
    """The op module's prepare_model records (model type, arguments) instead of loading the model."""
    from data_juicer.utils.model_utils import MODEL_FUNCTION_MAPPING

    def record(model_type: str, **kwargs: Any) -> partial:
        requests.append((model_type, kwargs))
        return partial(MODEL_FUNCTION_MAPPING[model_type], **kwargs)

    with mock.patch.object(module, "prepare_model", record) if hasattr(module, "prepare_model") \
            else contextlib.nullcontext():
        yield


@contextlib.contextmanager
def word_lists_recorded(module: Any, word_lists: list[tuple[str, str]]) -> Iterator[None]:
    """The op module's load_words_asset records (folder, words type) before loading as usual."""
    original = getattr(module, "load_words_asset", None)

    def record(words_dir: str, words_type: str) -> Any:
        word_lists.append((words_dir, words_type))
        return original(words_dir=words_dir, words_type=words_type)

    with mock.patch.object(module, "load_words_asset", record) if original else contextlib.nullcontext():
        yield


def model_problems(index: int, name: str, model_type: str, kwargs: dict[str, Any]) -> list[Missing]:
    """What a deferred model needs that is missing: its package, its file."""
    from data_juicer.utils.cache_utils import DATA_JUICER_MODELS_CACHE
    from data_juicer.utils.model_utils import MODEL_LINKS, check_model

    problems = []
    if model_type in MODEL_PACKAGES:
        module_name, pip_name = MODEL_PACKAGES[model_type]
        if importlib.util.find_spec(module_name) is None:
            problems.append(Missing(index, name, f"Python package {pip_name} (for its {model_type} model)",
                                    "add it, pinned, to envs/data-juicer.yaml, then `make venv`"))
    if model_type in MODEL_FILES:
        filename = MODEL_FILES[model_type](kwargs)
        if not os.path.exists(check_model(filename)):
            problems.append(Missing(index, name, f"model file {filename}",
                                    f"place it in {DATA_JUICER_MODELS_CACHE} (DATA_JUICER_MODELS_CACHE)",
                                    MODEL_LINKS + filename))
        return problems
    # any other model type: load it as the op would, offline; a load that tries to download fails
    from data_juicer.utils.model_utils import MODEL_FUNCTION_MAPPING

    attempts: list[str] = []
    try:
        with downloads_refused(attempts):
            MODEL_FUNCTION_MAPPING[model_type](**kwargs)
    except Exception as error:  # the loaders raise whatever their libraries raise
        problems.append(Missing(index, name, f"{model_type} model {kwargs} ({type(error).__name__}: {error})",
                                "make it loadable offline (a local path, or the library's cache)",
                                ", ".join(attempts)))
    return problems


def op_problems(index: int, op_config: dict[str, Any]) -> list[Missing]:
    """Build one op with downloads refused and models deferred; what it needs that is missing."""
    from data_juicer.ops import OPERATORS
    from data_juicer.ops.load import load_ops
    from data_juicer.utils.asset_utils import ASSET_LINKS

    name = next(iter(op_config))
    module = sys.modules[OPERATORS.modules[name].__module__]
    requests: list[tuple[str, dict[str, Any]]] = []
    word_lists: list[tuple[str, str]] = []
    attempts: list[str] = []
    problems: list[Missing] = []
    try:
        with (downloads_refused(attempts), models_deferred(module, requests),
              word_lists_recorded(module, word_lists)):
            load_ops([op_config])
    except DownloadRefused:
        words_dir, words_type = word_lists[-1] if word_lists else ("", "")
        problems.append(Missing(index, name,
                                f"word list '{words_type}' (a JSON file named {words_type}.json)",
                                f"place it in {words_dir}", ASSET_LINKS.get(words_type, ", ".join(attempts))))
    except ImportError as error:
        problems.append(Missing(index, name, f"a Python package ({error})",
                                "add it, pinned, to envs/data-juicer.yaml, then `make venv`"))
    for model_type, kwargs in requests:
        problems += model_problems(index, name, model_type, kwargs)
    return problems


def missing_resources(process: list[dict[str, Any]]) -> list[Missing]:
    """Every resource every op of the recipe needs and this machine lacks, in recipe order."""
    return [problem for index, op_config in enumerate(process) for problem in op_problems(index, op_config)]
